// What every page needs: the API client for the signed-in key and who that key is.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ApiClient } from "./api.ts";
import type { WhoAmI } from "./types.ts";

export interface Session {
  api: ApiClient;
  who: WhoAmI;
  signOut: (message?: string) => void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; pages are only rendered inside one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in app");
  return session;
}
