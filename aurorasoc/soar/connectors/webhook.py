"""Real ``notify`` connector: POST JSON to a webhook, retrying transient failures (spec §15.6).

Retried: transport errors and 5xx answers, with exponential backoff, up to ``attempts`` tries.
A 4xx answer is the receiver refusing the message, so it fails at once.
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from aurorasoc.soar.connectors.base import ConnectorError, Result


class _Retryable(Exception):
    """A failure worth another try (transport error or 5xx)."""


class WebhookNotifyConnector:
    name = "webhook"
    simulated = False

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.attempts = attempts
        self._wait = wait_exponential(multiplier=backoff_s, max=max_backoff_s)

    async def notify(self, channel: str, message: str, payload: dict[str, Any]) -> Result:
        body = {"channel": channel, "message": message, "payload": payload}
        tries = 0
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.attempts),
                    wait=self._wait,
                    retry=retry_if_exception_type(_Retryable),
                ):
                    with attempt:
                        tries += 1
                        status = await self._post(client, body)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise ConnectorError(
                f"webhook failed after {tries} attempts: {cause}", attempts=tries, url=self.url
            ) from cause
        return {"status": "delivered", "http_status": status, "attempts": tries}

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> int:
        try:
            response = await client.post(self.url, json=body)
        except httpx.TransportError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ConnectorError(
                f"webhook refused the message: HTTP {response.status_code}",
                http_status=response.status_code,
                url=self.url,
            )
        return response.status_code
