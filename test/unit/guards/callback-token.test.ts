import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { toAttemptView } from '../../../src/domain/attempt';
import { STEP_STATUSES, transitionStep, type Step, type StepStatus } from '../../../src/domain/step';
import {
  callbackKey,
  callbackKeyRing,
  callbackTokenMatchesAttempt,
  callbackTokenStanding,
  issueCallbackToken,
  MAX_CALLBACK_TOKEN_LENGTH,
  parseCallbackKey,
  verifyCallbackToken,
  type CallbackKey,
  type CallbackTokenClaims,
} from '../../../src/guards/callback-token';
import { GuardConfigError } from '../../../src/guards/errors';

const LEASE = '5b0c6a36-8f52-4d3e-9a51-0d9c0d3f8f11';
const NEXT_LEASE = '9d0f1c2b-3a4e-4f5a-8b6c-7d8e9f0a1b2c';
const CLAIMS: CallbackTokenClaims = { jobId: 'job-1', stepId: 'ocr', attemptNo: 2, leaseId: LEASE };
const ROUTE = { jobId: 'job-1', stepId: 'ocr' };

const keyA = callbackKey('2026-01', Buffer.alloc(32, 7));
const keyB = callbackKey('2026-02', Buffer.alloc(32, 9));
const ring = callbackKeyRing(keyA);

/** Signs an arbitrary payload the way Lucius does, to test what happens after the MAC matches. */
function signRaw(key: CallbackKey, payloadJson: string): string {
  const payload = Buffer.from(payloadJson, 'utf8').toString('base64url');
  const signed = `lcb1.${key.id}.${payload}`;
  return `${signed}.${createHmac('sha256', key.secret).update(signed).digest('base64url')}`;
}

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('issueCallbackToken / verifyCallbackToken', () => {
  it('returns the attempt and lease a genuine token is bound to, and the key that signed it', () => {
    const token = issueCallbackToken(keyA, CLAIMS);
    expect(token).toMatch(/^lcb1\.2026-01\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyCallbackToken(ring, token, ROUTE)).toEqual({
      ok: true,
      keyId: '2026-01',
      attemptNo: 2,
      leaseId: LEASE,
    });
  });

  it('refuses a genuine token presented for another job or another step', () => {
    const token = issueCallbackToken(keyA, CLAIMS);
    expect(verifyCallbackToken(ring, token, { jobId: 'job-2', stepId: 'ocr' })).toEqual({
      ok: false,
      reason: 'wrong_job',
    });
    expect(verifyCallbackToken(ring, token, { jobId: 'job-1', stepId: 'embedding' })).toEqual({
      ok: false,
      reason: 'wrong_step',
    });
  });

  it('refuses a token whose payload was changed to claim another attempt, lease, job or step', () => {
    const [version, kid, , mac] = issueCallbackToken(keyA, CLAIMS).split('.');
    for (const forged of [
      { ...CLAIMS, attemptNo: 3 },
      { ...CLAIMS, leaseId: NEXT_LEASE },
      { ...CLAIMS, jobId: 'job-2' },
      { ...CLAIMS, stepId: 'embedding' },
    ]) {
      const payload = Buffer.from(
        JSON.stringify({ j: forged.jobId, s: forged.stepId, a: forged.attemptNo, l: forged.leaseId }),
      ).toString('base64url');
      const token = [version, kid, payload, mac].join('.');
      expect(verifyCallbackToken(ring, token, { jobId: forged.jobId, stepId: forged.stepId })).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('refuses a token whose MAC was changed', () => {
    const token = issueCallbackToken(keyA, CLAIMS);
    const macStart = token.lastIndexOf('.') + 1;
    const tampered = replaceAt(token, macStart, token[macStart] === 'A' ? 'B' : 'A');
    expect(verifyCallbackToken(ring, tampered, ROUTE)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a token signed with another secret under the same key id', () => {
    const impostor = callbackKey('2026-01', randomBytes(32));
    expect(verifyCallbackToken(ring, issueCallbackToken(impostor, CLAIMS), ROUTE)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a token signed with a key id it does not know', () => {
    expect(verifyCallbackToken(ring, issueCallbackToken(keyB, CLAIMS), ROUTE)).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
  });

  it('accepts tokens of the current and the previous key during a rotation, and only those', () => {
    const before = issueCallbackToken(keyA, CLAIMS);
    const rotating = callbackKeyRing(keyB, keyA);
    const after = issueCallbackToken(rotating.current, CLAIMS);
    expect(verifyCallbackToken(rotating, before, ROUTE)).toMatchObject({ ok: true, keyId: '2026-01' });
    expect(verifyCallbackToken(rotating, after, ROUTE)).toMatchObject({ ok: true, keyId: '2026-02' });

    const rotated = callbackKeyRing(keyB);
    expect(verifyCallbackToken(rotated, before, ROUTE)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyCallbackToken(rotated, after, ROUTE)).toMatchObject({ ok: true });
  });

  it('answers malformed for every kind of non-token, without throwing', () => {
    const good = issueCallbackToken(keyA, CLAIMS);
    const [, , payload, mac] = good.split('.') as [string, string, string, string];
    // The last MAC character carries 2 unused bits: another character decoding to the same bytes.
    const last = mac[mac.length - 1] as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      {},
      ['lcb1'],
      Buffer.from(good),
      '',
      ' ',
      'Bearer ' + good,
      good + ' ',
      good + '.',
      'lcb1',
      `lcb1.${keyA.id}.${payload}`,
      `lcb1.${keyA.id}.${payload}.${mac}.extra`,
      `lcb2.${keyA.id}.${payload}.${mac}`,
      `LCB1.${keyA.id}.${payload}.${mac}`,
      `lcb1..${payload}.${mac}`,
      `lcb1.key id.${payload}.${mac}`,
      `lcb1.${'k'.repeat(33)}.${payload}.${mac}`,
      `lcb1.${keyA.id}..${mac}`,
      `lcb1.${keyA.id}.${payload}=.${mac}`,
      `lcb1.${keyA.id}.${payload}+/.${mac}`,
      `lcb1.${keyA.id}.${payload}.`,
      `lcb1.${keyA.id}.${payload}.${mac.slice(1)}`,
      `lcb1.${keyA.id}.${payload}.${mac}A`,
      `lcb1.${keyA.id}.${payload}.${mac.slice(0, -1)}=`,
      `lcb1.${keyA.id}.${payload}.${mac.slice(0, -1)}${sibling}`,
      `lcb1.${keyA.id}.${payload}.${'é'.repeat(43)}`,
      good.replace('lcb1', 'lcb1\u0000'),
      'x'.repeat(MAX_CALLBACK_TOKEN_LENGTH + 1),
      `lcb1.${keyA.id}.${'A'.repeat(MAX_CALLBACK_TOKEN_LENGTH)}.${mac}`,
      // Correctly signed, but not claims Lucius would ever issue.
      signRaw(keyA, 'not json'),
      signRaw(keyA, '[]'),
      signRaw(keyA, 'null'),
      signRaw(keyA, '"lcb1"'),
      signRaw(keyA, '{}'),
      signRaw(keyA, JSON.stringify({ j: 'job-1', s: 'ocr', a: 0, l: LEASE })),
      signRaw(keyA, JSON.stringify({ j: 'job-1', s: 'ocr', a: 1.5, l: LEASE })),
      signRaw(keyA, JSON.stringify({ j: 'job-1', s: 'ocr', a: '2', l: LEASE })),
      signRaw(keyA, JSON.stringify({ j: 'job-1', s: 'ocr', a: 2, l: '' })),
      signRaw(keyA, JSON.stringify({ j: '', s: 'ocr', a: 2, l: LEASE })),
      signRaw(keyA, JSON.stringify({ j: 'job-1', s: 7, a: 2, l: LEASE })),
    ];
    for (const input of inputs) {
      expect(() => verifyCallbackToken(ring, input, ROUTE)).not.toThrow();
      expect(verifyCallbackToken(ring, input, ROUTE)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('never throws and never accepts an arbitrary string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (input) => {
        const result = verifyCallbackToken(ring, input, ROUTE);
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('refuses every token that differs from a genuine one in a single character', () => {
    const token = issueCallbackToken(keyA, CLAIMS);
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=é'),
        (index, char) => {
          fc.pre(token[index] !== char);
          expect(verifyCallbackToken(ring, replaceAt(token, index, char), ROUTE).ok).toBe(false);
        },
      ),
    );
  });

  it('refuses to issue a token for claims no attempt can have', () => {
    expect(() => issueCallbackToken(keyA, { ...CLAIMS, attemptNo: 0 })).toThrow(/attemptNo/);
    expect(() => issueCallbackToken(keyA, { ...CLAIMS, attemptNo: 1.5 })).toThrow(/attemptNo/);
    expect(() => issueCallbackToken(keyA, { ...CLAIMS, leaseId: '' })).toThrow(/leaseId/);
    expect(() => issueCallbackToken(keyA, { ...CLAIMS, jobId: '' })).toThrow(/jobId/);
    expect(() => issueCallbackToken(keyA, { ...CLAIMS, stepId: '' })).toThrow(/stepId/);
  });

  it('carries ids with any characters', () => {
    const claims = { jobId: 'j/ü.𝄞"', stepId: 'step.with.dots', attemptNo: 99, leaseId: 'l.e.a.s.e' };
    const token = issueCallbackToken(keyA, claims);
    expect(verifyCallbackToken(ring, token, claims)).toMatchObject({
      ok: true,
      attemptNo: 99,
      leaseId: 'l.e.a.s.e',
    });
  });
});

describe('callback keys', () => {
  it('parses <kid>:<base64 secret> in base64 and base64url', () => {
    const secret = randomBytes(32);
    expect(parseCallbackKey(`k1:${secret.toString('base64')}`).secret.equals(secret)).toBe(true);
    expect(parseCallbackKey(`k1:${secret.toString('base64url')}`).secret.equals(secret)).toBe(true);
    expect(parseCallbackKey(`k1:${secret.toString('base64')}`).id).toBe('k1');
  });

  it('keeps the secret out of JSON and of inspected output', () => {
    const secret = Buffer.alloc(32, 0xab);
    const key = callbackKey('k1', secret);
    expect(JSON.stringify(key)).toBe('{"id":"k1"}');
    expect(inspect(key)).not.toContain('ab ab');
    expect(key.secret.equals(secret)).toBe(true);
  });

  it('refuses keys that cannot be safe, without echoing the secret', () => {
    const short = Buffer.alloc(31, 1).toString('base64');
    expect(() => parseCallbackKey(`k1:${short}`)).toThrow(GuardConfigError);
    expect(() => parseCallbackKey(`k1:${short}`)).toThrow(/31 bytes; at least 32/);
    try {
      parseCallbackKey(`k1:${short}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => parseCallbackKey(Buffer.alloc(32).toString('base64'))).toThrow(/<key id>:<base64 secret>/);
    expect(() => parseCallbackKey('k1:not base64!')).toThrow(/not base64/);
    expect(() => parseCallbackKey(`k.1:${Buffer.alloc(32).toString('base64')}`)).toThrow(/key id/);
    expect(() => callbackKeyRing(keyA, callbackKey(keyA.id, Buffer.alloc(32, 1)))).toThrow(/another id/);
  });
});

describe('callbackTokenMatchesAttempt', () => {
  const NOW = new Date('2026-01-01T00:00:00.000Z');
  const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
  const pending: Step = {
    jobId: 'job-1',
    stepId: 'ocr',
    index: 0,
    type: 'OCR',
    status: 'PENDING',
    lane: 0,
    payload: {},
    attemptNo: 0,
    attemptBase: 0,
    staleReplies: 0,
    duplicateReplies: 0,
    createdAt: at(0),
    updatedAt: at(0),
  };
  const bound = { attemptNo: 1, leaseId: LEASE };

  it('holds while the attempt is in flight and stops once the ledger ends it (replay after the end)', () => {
    const dispatching = transitionStep(
      pending,
      { type: 'DISPATCH', attemptNo: 1, leaseId: LEASE, ackDeadline: at(30) },
      NOW,
    ).next;
    const awaiting = transitionStep(
      dispatching,
      { type: 'PUBLISHED', attemptNo: 1, leaseId: LEASE },
      NOW,
    ).next;
    const running = transitionStep(
      awaiting,
      { type: 'ACK', attemptNo: 1, leaseId: LEASE, leaseExpiresAt: at(900), resultDeadline: at(900) },
      NOW,
    ).next;
    for (const step of [dispatching, awaiting, running])
      expect(callbackTokenMatchesAttempt(bound, toAttemptView(step))).toBe(true);

    const succeeded = transitionStep(running, { type: 'SUCCEED', attemptNo: 1, leaseId: LEASE }, NOW).next;
    const failed = transitionStep(
      running,
      { type: 'FAIL', attemptNo: 1, leaseId: LEASE, failureClass: 'TRANSIENT', message: 'x', maxAttempts: 3 },
      NOW,
    ).next;
    const cancelled = transitionStep(running, { type: 'CANCEL' }, NOW).next;
    for (const step of [succeeded, failed, cancelled]) {
      expect(callbackTokenMatchesAttempt(bound, toAttemptView(step))).toBe(false);
      expect(callbackTokenStanding(bound, toAttemptView(step))).toBe('ended');
    }

    // The retry's new attempt has a new lease: the first attempt's token does not work for it.
    const retried = transitionStep(
      failed,
      { type: 'DISPATCH', attemptNo: 2, leaseId: NEXT_LEASE, ackDeadline: at(60) },
      NOW,
    ).next;
    expect(callbackTokenMatchesAttempt(bound, toAttemptView(retried))).toBe(false);
    expect(callbackTokenStanding(bound, toAttemptView(retried))).toBe('superseded');
    expect(callbackTokenMatchesAttempt({ attemptNo: 2, leaseId: NEXT_LEASE }, toAttemptView(retried))).toBe(
      true,
    );
  });

  it('is false for a step not dispatched yet, and when only the attempt number or only the lease matches', () => {
    expect(callbackTokenStanding(bound, toAttemptView(pending))).toBe('superseded');
    expect(
      callbackTokenMatchesAttempt(bound, { status: 'IN_PROGRESS', attemptNo: 1, leaseId: NEXT_LEASE }),
    ).toBe(false);
    expect(callbackTokenMatchesAttempt(bound, { status: 'IN_PROGRESS', attemptNo: 2, leaseId: LEASE })).toBe(
      false,
    );
  });

  it('is true exactly for the in-flight statuses of the bound attempt', () => {
    const inFlight: StepStatus[] = ['DISPATCHING', 'AWAITING_ACK', 'IN_PROGRESS'];
    for (const status of STEP_STATUSES)
      expect(callbackTokenMatchesAttempt(bound, { status, attemptNo: 1, leaseId: LEASE })).toBe(
        inFlight.includes(status),
      );
  });
});
