// The route that serves Better Auth, its JWKS included (app/api/auth/[...all]/route.ts).
// --8<-- [start:route]
import { toNextJsHandler } from "better-auth/next-js";

import { auth } from "./auth.js"; // "@/lib/auth" in the app

export const { GET, POST } = toNextJsHandler(auth);
// --8<-- [end:route]
