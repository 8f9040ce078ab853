// A typed client for taskapi: openapi-fetch over the types that openapi-typescript generates
// from the service's OpenAPI document (src/schema.d.ts; `npm run generate` remakes it).
// Thin on purpose: every call is openapi-fetch's own (`GET`, `POST`, ... with typed paths,
// parameters, bodies and answers); this module adds the bearer token and the task types.
import createFetchClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths };
export type Task = components["schemas"]["TaskRead"];
export type NewTask = components["schemas"]["TaskWrite"];
export type TaskChanges = components["schemas"]["TaskPatch"];
export type Priority = components["schemas"]["Priority"];
export type PageMeta = components["schemas"]["PageMeta"];
export type ApiError = components["schemas"]["ErrorBody"];
export type ErrorCode = ApiError["code"];
export type TaskApi = Client<paths>;

/** The bearer token for the next request, or null to send none (AUTH_MODE=none). `refresh` is
 * true after the service answered 401: return a new token (not a cached one), or null to give
 * up. */
export type TokenGetter = (options: { refresh: boolean }) => Promise<string | null> | string | null;

export interface ClientOptions {
  /** The service's origin, e.g. https://tasks.example.com (no /api: paths carry it). */
  baseUrl: string;
  getToken?: TokenGetter;
  /** Another fetch (tests, instrumentation); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createClient({ baseUrl, getToken, fetch = globalThis.fetch }: ClientOptions): TaskApi {
  return createFetchClient<paths>({
    baseUrl,
    fetch: getToken ? withBearer(getToken, fetch) : fetch,
  });
}

/** Sends each request with the token; on a 401, asks for a fresh token and sends it once more
 * (a token expires every few minutes: Better Auth's last 15). */
function withBearer(
  getToken: TokenGetter,
  fetch: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  const send = (request: Request, token: string | null): Promise<Response> => {
    if (token !== null) request.headers.set("Authorization", `Bearer ${token}`);
    return fetch(request);
  };
  return async (request) => {
    const again = request.clone(); // before the body is read
    const answer = await send(request, await getToken({ refresh: false }));
    if (answer.status !== 401) return answer;
    const fresh = await getToken({ refresh: true });
    if (fresh === null) return answer;
    await answer.body?.cancel();
    return send(again, fresh);
  };
}

/** The task's ETag, for If-Match: its version, quoted. */
export function etag(task: Pick<Task, "version">): string {
  return `"${task.version}"`;
}
