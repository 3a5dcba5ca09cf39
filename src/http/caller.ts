/**
 * The contract between the security pipeline (secure-route.ts) and the HTTP handlers behind it.
 *
 * The pipeline authenticates the request, checks the route's role and hands the handler a `Caller`.
 * The handler never reads credentials itself: it asks the caller for the tenant it acts for
 * (`tenant`), which applies the tenant rules (README "Tenants") and takes from the per-tenant rate
 * limit, or whether the caller may act for a job's tenant (`mayUse`, worker callbacks).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Principal } from '../auth/principal';

/** What a tenant is resolved for: a command (body), a read or control of one job, or a listing. */
export type TenantPurpose = 'command' | 'read' | 'list';

export interface Caller {
  /** The authenticated principal; absent when the request came with a worker callback token. */
  readonly principal?: Principal;
  /** The `Lucius-Callback-Token` header (only on the worker callback routes; then no bearer auth ran). */
  readonly callbackToken?: string;
  /**
   * The tenant this request acts for (`requested` from the query or body; may be omitted by a caller
   * with exactly one tenant). Takes from the per-tenant rate limit. Throws AuthFailure 403
   * tenant_forbidden (command, list) or 400 tenant_required; for `read` of a tenant the caller may
   * not use it throws JobNotFoundError(jobIdForNotFound) so the answer is the unknown-job 404.
   */
  tenant(requested: string | undefined, purpose: TenantPurpose, jobIdForNotFound?: string): Promise<string>;
  /** Whether the principal may act for `tenantId` (false without a principal). */
  mayUse(tenantId: string): Promise<boolean>;
}

/** A handler behind the pipeline. */
export type SecuredHandler<S> = (
  services: S,
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit>;

/** The header a worker sends its directive's `callback_token` in (header names are case-insensitive). */
export const CALLBACK_TOKEN_HEADER = 'Lucius-Callback-Token';
