import type { TokenGetter } from "../src/index.js";

// --8<-- [start:cache]
/** Keeps one token and asks for another only after taskapi answered 401 (it expired). */
export function cachedToken(fetchToken: () => Promise<string | null>): TokenGetter {
  let token: Promise<string | null> | null = null;
  return ({ refresh }) => {
    if (token === null || refresh) token = fetchToken();
    return token;
  };
}
// --8<-- [end:cache]
