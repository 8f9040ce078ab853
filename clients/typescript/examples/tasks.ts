// Calling taskapi from the app through the typed client: the calls and the retries that the
// guide (docs/nextjs.md) shows, each exercised by test/client.test.ts against a live service.
import { createClient, etag, type PageMeta, type Task, type TaskApi, type TokenGetter } from "../src/index.js";

export function apiFor(getToken: TokenGetter, baseUrl?: string): TaskApi {
  // --8<-- [start:create-client]
  const api = createClient({
    baseUrl: baseUrl ?? process.env.NEXT_PUBLIC_TASKAPI_URL ?? "http://localhost:8000",
    getToken, // from lib/auth-client.ts
  });
  // --8<-- [end:create-client]
  return api;
}

export async function addAndFinish(api: TaskApi, userId: string): Promise<Task> {
  // --8<-- [start:calls]
  const { data, error } = await api.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: userId } },
    body: { title: "Buy milk", priority: "high", due_at: "2026-12-01T17:00:00+01:00" },
  });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  const task = data.data; // a Task: every field typed

  const done = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id: userId, task_id: task.id }, header: { "If-Match": etag(task) } },
    body: { completed: true },
  });
  // --8<-- [end:calls]
  if (done.error) throw new Error(done.error.error.code);
  return done.data.data;
}

// --8<-- [start:pages]
/** Every pending task, soonest due first, page by page. */
export async function allPending(api: TaskApi, userId: string, limit = 100): Promise<Task[]> {
  const tasks: Task[] = [];
  let cursor: string | null = null;
  do {
    const { data, error } = await api.GET("/api/{user_id}/tasks", {
      params: {
        path: { user_id: userId },
        query: { completed: false, sort: "due_at", limit, ...(cursor ? { cursor } : {}) },
      },
    });
    if (error) throw new Error(error.error.code);
    const page: PageMeta = data.meta;
    tasks.push(...data.data);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return tasks;
}
// --8<-- [end:pages]

// --8<-- [start:precondition]
/** Renames a task without overwriting someone else's edit: If-Match carries the version we
 * saw; on 412 (it changed meanwhile) reload it and try again. */
export async function rename(api: TaskApi, userId: string, seen: Task, title: string): Promise<Task> {
  let current = seen;
  for (let attempt = 0; attempt < 3; attempt++) {
    const path = { user_id: userId, task_id: current.id };
    const { data, error, response } = await api.PATCH("/api/{user_id}/tasks/{task_id}", {
      params: { path, header: { "If-Match": etag(current) } },
      body: { title },
    });
    if (data) return data.data;
    if (response.status !== 412) throw new Error(error.error.code);
    const reloaded = await api.GET("/api/{user_id}/tasks/{task_id}", { params: { path } });
    if (!reloaded.data) throw new Error("the task is gone");
    current = reloaded.data.data; // a real app may show the user what changed first
  }
  throw new Error("the task keeps changing");
}
// --8<-- [end:precondition]

// --8<-- [start:retry-after]
/** Retries a call answered 429 (rate limited) or 503 (the database is away) after the
 * Retry-After header's seconds, a few times and never for longer than `maxWaitSeconds`. */
export async function withRetryAfter<T extends { response: Response }>(
  call: () => Promise<T>,
  { attempts = 3, maxWaitSeconds = 30 } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await call();
    const { status, headers } = result.response;
    if ((status !== 429 && status !== 503) || attempt >= attempts) return result;
    const seconds = Number(headers.get("Retry-After") ?? "1");
    if (!(seconds <= maxWaitSeconds)) return result; // too long: tell the user instead
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}
// --8<-- [end:retry-after]
