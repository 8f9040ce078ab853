// A real Better Auth server for tests/e2e/test_betterauth.py: the memory adapter, email and
// password sign-up, and the jwt() plugin whose tokens and key set taskapi verifies.
// PORT: where it listens; ROTATION_SECONDS: the jwt plugin's jwks.rotationInterval.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const port = Number(process.env.PORT ?? 3000);
const baseURL = `http://127.0.0.1:${port}`;
const rotationInterval = Number(process.env.ROTATION_SECONDS ?? 0) || undefined;

const auth = betterAuth({
  baseURL,
  secret: "a-test-secret-that-is-at-least-32-characters-long",
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  plugins: [jwt({ jwks: { rotationInterval } })],
  telemetry: { enabled: false },
});

createServer(toNodeHandler(auth)).listen(port, "127.0.0.1", () => {
  console.log(`better-auth listening on ${baseURL}`);
});
