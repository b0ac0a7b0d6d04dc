import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { ApiError } from "./api/client";
import { markRefreshed } from "./app/refresh";
import { AppRoutes } from "./app/routes";
import { POLL_MS } from "./app/session";
import { ToastProvider } from "./components/Toasts";
import "./index.css";

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onSuccess: markRefreshed }),
  defaultOptions: {
    queries: {
      refetchInterval: POLL_MS,
      refetchOnWindowFocus: false,
      // 4xx/503 answers are facts to show, not glitches to retry.
      retry: (count, error) => !(error instanceof ApiError) && count < 1,
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <ToastProvider>
          <AppRoutes />
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
