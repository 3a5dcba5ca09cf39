/**
 * A worker's reply (ACK, RESULT, heartbeat) once decoded, whichever way it came in (Service Bus or
 * an HTTP callback): what ingestion and `toStepEvent` work with. Decoding and validating the wire
 * document is contracts/reply-decoder.ts.
 */
import type { FailureClass } from './failure';

export const WORKER_REPLY_KINDS = ['ack', 'result', 'heartbeat'] as const;
export type WorkerReplyKind = (typeof WORKER_REPLY_KINDS)[number];

/** The attempt every reply must echo. */
export interface ReplyAttempt {
  readonly jobId: string;
  readonly stepId: string;
  readonly attemptNo: number;
  readonly leaseId: string;
}

export interface AckReply extends ReplyAttempt {
  readonly kind: 'ack';
  readonly ackedAt: string;
  readonly workerId?: string;
  /** The lease the worker asks for (1..60 minutes). */
  readonly leaseMinutes?: number;
}

export interface HeartbeatReply extends ReplyAttempt {
  readonly kind: 'heartbeat';
  readonly sentAt: string;
  /** How far to extend the lease from now (1..60 minutes). */
  readonly extendMinutes?: number;
  /** Percent done, 0..100. */
  readonly progress?: number;
}

interface ResultFields extends ReplyAttempt {
  readonly kind: 'result';
  readonly completedAt: string;
  readonly result?: Readonly<Record<string, unknown>>;
}

export interface SucceededReply extends ResultFields {
  readonly status: 'SUCCEEDED';
  readonly outputRef: string;
}

export interface FailedReply extends ResultFields {
  readonly status: 'FAILED';
  readonly failure: { readonly failureClass: FailureClass; readonly message: string };
  readonly outputRef?: string;
}

export type ResultReply = SucceededReply | FailedReply;
export type WorkerReply = AckReply | HeartbeatReply | ResultReply;

export function isWorkerReplyKind(value: unknown): value is WorkerReplyKind {
  return typeof value === 'string' && (WORKER_REPLY_KINDS as readonly string[]).includes(value);
}
