// The Next.js app's side of sign-in (lib/auth.ts): Better Auth with its JWT plugin, which signs
// short-lived tokens (EdDSA, 15 minutes) and publishes its public keys at /api/auth/jwks.
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";

// --8<-- [start:server]
export const auth = betterAuth({
  baseURL: process.env.BETTER_AUTH_URL, // e.g. https://app.example.com
  secret: process.env.BETTER_AUTH_SECRET,
  database: memoryAdapter({}), // your database adapter here
  emailAndPassword: { enabled: true },
  plugins: [
    // Tokens carry sub = the user's id; iss and aud = baseURL (what JWT_ISSUER and
    // JWT_AUDIENCE name on taskapi's side).
    jwt(),
  ],
});
// --8<-- [end:server]
