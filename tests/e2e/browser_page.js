// The page of tests/e2e/test_browser.py: a frontend on another origin calling taskapi with
// fetch, as a browser app does. Each function resolves to what the page could read (status,
// body fields, response headers), which the test asserts; a header the browser hides from
// the page (not exposed by CORS) reads as null.

const TRACING = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  tracestate: "congo=t61rcWkgMzE",
  baggage: "userId=alice,isProduction=false",
  "sentry-trace": "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
};

function headers(response, ...names) {
  return Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
}

function report(results) {
  document.getElementById("results").textContent = JSON.stringify(results, null, 2);
  return results;
}

async function scenario(api, token, user) {
  const auth = { Authorization: `Bearer ${token}` };
  const json = { ...auth, "Content-Type": "application/json" };
  const tasks = `${api}/api/${encodeURIComponent(user)}/tasks`;
  const results = {};
  try {
    const create = () =>
      fetch(tasks, {
        method: "POST",
        headers: { ...json, "Idempotency-Key": "browser-create-1", "X-Request-ID": "browser-1" },
        body: JSON.stringify({ title: "Written in a browser", priority: "high" }),
      });
    let response = await create();
    let body = await response.json();
    const id = body.data.id;
    results.create = {
      status: response.status,
      id,
      ...headers(response, "ETag", "Location", "X-Request-ID", "Idempotent-Replayed"),
    };

    response = await create(); // the same key and body: the first answer, replayed
    body = await response.json();
    results.replay = {
      status: response.status,
      id: body.data.id,
      ...headers(response, "ETag", "Location", "X-Request-ID", "Idempotent-Replayed"),
    };

    response = await fetch(`${tasks}/${id}`, {
      method: "PATCH",
      headers: { ...json, "If-Match": '"7"' },
      body: JSON.stringify({ title: "A stale edit" }),
    });
    body = await response.json();
    results.stalePatch = {
      status: response.status,
      code: body.error.code,
      requestId: body.error.request_id,
      ...headers(response, "ETag", "X-Request-ID"),
    };

    response = await fetch(`${tasks}/${id}`, {
      method: "PATCH",
      headers: { ...json, "If-Match": results.create.ETag },
      body: JSON.stringify({ title: "A fresh edit" }),
    });
    body = await response.json();
    results.freshPatch = { status: response.status, title: body.data.title, ...headers(response, "ETag") };

    await fetch(tasks, { method: "POST", headers: json, body: JSON.stringify({ title: "Second" }) });
    response = await fetch(`${tasks}?limit=1`, { headers: auth });
    body = await response.json();
    results.firstPage = {
      status: response.status,
      titles: body.data.map((task) => task.title),
      nextCursor: body.meta.next_cursor,
      ...headers(response, "Link"),
    };
    response = await fetch(`${tasks}?limit=1&cursor=${encodeURIComponent(body.meta.next_cursor)}`, {
      headers: auth,
    });
    body = await response.json();
    results.secondPage = {
      status: response.status,
      titles: body.data.map((task) => task.title),
      nextCursor: body.meta.next_cursor,
      ...headers(response, "Link"),
    };

    response = await fetch(`${tasks}/${id}`, { method: "DELETE", headers: auth });
    body = await response.json();
    results.delete = { status: response.status, id: body.data.id };

    response = await fetch(tasks, { headers: { ...auth, ...TRACING } });
    body = await response.json();
    results.traced = { status: response.status, count: body.meta.count, ...headers(response, "X-Request-ID") };

    response = await fetch(tasks, { headers: { Authorization: "Bearer not-a-token" } });
    body = await response.json();
    results.unauthorized = {
      status: response.status,
      code: body.error.code,
      ...headers(response, "X-Request-ID", "WWW-Authenticate"),
    };
  } catch (error) {
    results.thrown = `${error} after ${Object.keys(results).join(", ") || "nothing"}`;
  }
  return report(results);
}

// From an origin that CORS_ORIGINS does not name: every call must be refused by the browser.
async function attempt(url, init) {
  try {
    const response = await fetch(url, init);
    return { status: response.status };
  } catch (error) {
    return { rejected: error.name };
  }
}

async function blocked(api, token, user) {
  const tasks = `${api}/api/${encodeURIComponent(user)}/tasks`;
  return report({
    simple: await attempt(tasks, {}), // no preflight: the answer is hidden from the page
    preflighted: await attempt(tasks, { headers: { Authorization: `Bearer ${token}` } }),
    create: await attempt(tasks, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "From a stranger's page" }),
    }),
  });
}
