// The typed client and the guide's examples against a live taskapi (AUTH_MODE=jwt, HS256).
// tests/e2e/test_typescript_client.py starts the services and runs this file with:
//   TASKAPI_URL          the service
//   TASKAPI_LIMITED_URL  the same, with RATE_LIMIT=2 (requests a minute per user)
//   TASKAPI_JWT_SECRET   its JWT_SECRET, to mint tokens here
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { describe, test } from "node:test";

import { cachedToken } from "../examples/token.js";
import { addAndFinish, allPending, apiFor, rename, withRetryAfter } from "../examples/tasks.js";
import { createClient, etag, type TaskApi } from "../src/index.js";

const BASE = process.env.TASKAPI_URL;
const LIMITED = process.env.TASKAPI_LIMITED_URL;
const SECRET = process.env.TASKAPI_JWT_SECRET ?? "";
const skip = BASE ? false : "TASKAPI_URL is not set (tests/e2e/test_typescript_client.py sets it)";

function mint(sub: string, secondsLeft = 900): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub, iat: now, exp: now + secondsLeft })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}

function newUser(): { user: string; api: TaskApi } {
  const user = `ts-${randomUUID().slice(0, 8)}`;
  return { user, api: apiFor(() => mint(user), BASE) };
}

describe("the typed client against a live taskapi", { skip }, () => {
  test("create, list sorted by pages, patch with If-Match, complete, delete", async () => {
    const { user, api } = newUser();
    const path = { user_id: user };
    const created = [];
    for (const [title, due] of [
      ["later", "2026-12-03T09:00:00Z"],
      ["sooner", "2026-12-01T09:00:00+01:00"],
      ["soonest", "2026-11-30T09:00:00Z"],
    ] as const) {
      const { data, error, response } = await api.POST("/api/{user_id}/tasks", {
        params: { path, header: { "Idempotency-Key": `create-${title}` } },
        body: { title, due_at: due },
      });
      assert.equal(error, undefined);
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("Location"), `/api/${user}/tasks/${data?.data.id}`);
      assert.equal(response.headers.get("ETag"), '"1"');
      created.push(data!.data);
    }

    const pending = await allPending(api, user, 1); // three pages of one
    assert.deepEqual(
      pending.map((task) => task.title),
      ["soonest", "sooner", "later"],
    );
    assert.equal(pending[1]!.due_at, "2026-12-01T08:00:00.000000Z");

    const firstPage = await api.GET("/api/{user_id}/tasks", {
      params: { path, query: { sort: "-due_at", limit: 2 } },
    });
    assert.deepEqual(
      firstPage.data?.data.map((task) => task.title),
      ["later", "sooner"],
    );
    assert.match(firstPage.response.headers.get("Link") ?? "", /; rel="next"$/);
    const secondPage = await api.GET("/api/{user_id}/tasks", {
      params: { path, query: { sort: "-due_at", limit: 2, cursor: firstPage.data!.meta.next_cursor! } },
    });
    assert.deepEqual(
      secondPage.data?.data.map((task) => task.title),
      ["soonest"],
    );
    assert.equal(secondPage.data?.meta.next_cursor, null);

    const later = created[0]!;
    const stale = await api.PATCH("/api/{user_id}/tasks/{task_id}", {
      params: { path: { ...path, task_id: later.id }, header: { "If-Match": '"9"' } },
      body: { priority: "low" },
    });
    assert.equal(stale.response.status, 412);
    assert.equal(stale.error?.error.code, "PRECONDITION_FAILED");
    assert.equal(stale.response.headers.get("ETag"), etag(later));
    const patched = await api.PATCH("/api/{user_id}/tasks/{task_id}", {
      params: { path: { ...path, task_id: later.id }, header: { "If-Match": etag(later) } },
      body: { priority: "low", description: "with a fresh ETag" },
    });
    assert.equal(patched.data?.data.priority, "low");
    assert.equal(patched.data?.data.version, 2);

    const completed = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
      params: { path: { ...path, task_id: later.id }, header: { "If-Match": '"2"' } },
    });
    assert.equal(completed.data?.data.completed, true);
    assert.ok(completed.data?.data.completed_at);

    const deleted = await api.DELETE("/api/{user_id}/tasks/{task_id}", {
      params: { path: { ...path, task_id: later.id } },
    });
    assert.equal(deleted.data?.data.id, later.id);
    const again = await api.DELETE("/api/{user_id}/tasks/{task_id}", {
      params: { path: { ...path, task_id: later.id } },
    });
    assert.equal(again.response.status, 404);
    assert.equal(again.error?.error.code, "TASK_NOT_FOUND");
  });

  test("the guide's create-and-complete", async () => {
    const { user, api } = newUser();

    const done = await addAndFinish(api, user);

    assert.equal(done.completed, true);
    assert.equal(done.title, "Buy milk");
    assert.equal(done.due_at, "2026-12-01T16:00:00.000000Z");
  });

  test("a rename that meets someone else's edit reloads and retries", async () => {
    const { user, api } = newUser();
    const path = { user_id: user };
    const { data } = await api.POST("/api/{user_id}/tasks", { params: { path }, body: { title: "draft" } });
    const seen = data!.data;
    await api.PATCH("/api/{user_id}/tasks/{task_id}", {
      params: { path: { ...path, task_id: seen.id } },
      body: { priority: "high" }, // another tab's edit: version 2
    });

    const renamed = await rename(api, user, seen, "final");

    assert.equal(renamed.title, "final");
    assert.equal(renamed.priority, "high"); // the other edit survived
    assert.equal(renamed.version, 3);
  });

  test("an expired token is refreshed once and the request sent again", async () => {
    const user = `ts-${randomUUID().slice(0, 8)}`;
    const issued: string[] = [];
    const getToken = cachedToken(async () => {
      const token = mint(user, issued.length === 0 ? -60 : 900); // the first has expired
      issued.push(token);
      return token;
    });
    const api = apiFor(getToken, BASE);

    const first = await api.POST("/api/{user_id}/tasks", {
      params: { path: { user_id: user } },
      body: { title: "sent twice, created once" },
    });
    const second = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id: user } } });

    assert.equal(first.response.status, 201);
    assert.equal(second.data?.meta.count, 1);
    assert.equal(issued.length, 2); // one refresh, then the cached token
  });

  test("a token that cannot be refreshed leaves the 401 to the caller", async () => {
    const user = `ts-${randomUUID().slice(0, 8)}`;
    const api = createClient({
      baseUrl: BASE!,
      getToken: ({ refresh }) => (refresh ? null : "not-a-token"),
    });

    const { error, response } = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id: user } } });

    assert.equal(response.status, 401);
    assert.equal(error?.error.code, "UNAUTHORIZED");
    assert.ok(error?.error.request_id);
  });

  test("another user's token is a typed 403", async () => {
    const { api } = newUser();

    const { error, response } = await api.GET("/api/{user_id}/tasks/stats", {
      params: { path: { user_id: "someone-else" } },
    });

    assert.equal(response.status, 403);
    assert.equal(error?.error.code, "FORBIDDEN");
  });

  test("503 with Retry-After is retried after the wait", async () => {
    const user = `ts-${randomUUID().slice(0, 8)}`;
    let outages = 1; // the first answer is an outage, as the service sends it
    const api = createClient({
      baseUrl: BASE!,
      getToken: () => mint(user),
      fetch: async (request) => {
        if (outages-- > 0) {
          const body = { success: false, error: { code: "SERVICE_UNAVAILABLE", message: "down", request_id: "r" } };
          return Response.json(body, { status: 503, headers: { "Retry-After": "0" } });
        }
        return fetch(request);
      },
    });

    const { data, response } = await withRetryAfter(() =>
      api.GET("/api/{user_id}/tasks/stats", { params: { path: { user_id: user } } }),
    );

    assert.equal(response.status, 200);
    assert.equal(data?.data.total, 0);
  });

  test("429 with a long Retry-After is handed back, not waited out", { skip: LIMITED ? false : "TASKAPI_LIMITED_URL is not set" }, async () => {
    const user = `ts-${randomUUID().slice(0, 8)}`;
    const api = apiFor(() => mint(user), LIMITED);
    const stats = () => api.GET("/api/{user_id}/tasks/stats", { params: { path: { user_id: user } } });
    await stats();
    await stats(); // RATE_LIMIT=2: the budget is spent

    const { error, response } = await withRetryAfter(stats, { maxWaitSeconds: 0 });

    assert.equal(response.status, 429);
    assert.equal(error?.error.code, "RATE_LIMITED");
    assert.ok(Number(response.headers.get("Retry-After")) > 0);
  });
});
