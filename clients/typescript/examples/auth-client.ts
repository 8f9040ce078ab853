// The browser's side of sign-in (lib/auth-client.ts): the Better Auth client with the JWT
// plugin's client, and the token getter that the taskapi client calls.
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

import { cachedToken } from "./token.js";

// --8<-- [start:client]
export const authClient = createAuthClient({
  plugins: [jwtClient()],
});

// authClient.token() asks the app for a fresh JWT for the signed-in user (null when signed out).
export const getToken = cachedToken(async () => {
  const { data } = await authClient.token();
  return data?.token ?? null;
});
// --8<-- [end:client]
