import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { retryDelay, retryPolicy } from "./api/client";
import { markRefreshed } from "./app/refresh";
import { AppRoutes } from "./app/routes";
import { POLL_MS } from "./app/session";
import { RateLimitBanner } from "./components/RateLimitBanner";
import { ToastProvider } from "./components/Toasts";
import "./index.css";

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onSuccess: markRefreshed }),
  defaultOptions: {
    queries: {
      refetchInterval: POLL_MS,
      refetchOnWindowFocus: false,
      // 4xx/503 answers are facts to show, not glitches to retry; a 429 waits for its Retry-After.
      retry: retryPolicy,
      retryDelay,
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <ToastProvider>
          <AppRoutes />
          <RateLimitBanner />
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
