"""One deployment's names on shared infrastructure (issue 20): ``AURORA_NAMESPACE``.

Every Redis key and stream, NATS stream, subject and durable consumer, and MQTT topic of a
deployment carries its namespace, so two deployments can share one Redis, one NATS and one broker
without consuming each other's events, alerts, tasks or devices. Code keeps using the logical
names of the spec (``aurora:alerts``, ``decisions:agents``, ``AURORA.alerts``,
``aurora/sensors/+/status``); the transports translate them here. The default namespace
``aurora`` maps every name to itself, so an existing deployment keeps its streams and keys. Redis
consumer groups live inside their (namespaced) stream, so they need no prefix of their own.
"""

from __future__ import annotations

from aurorasoc.core.config import get_settings

DEFAULT = "aurora"


def namespace(ns: str | None = None) -> str:
    """``ns`` when given (a component bound to one deployment), else ``AURORA_NAMESPACE``."""
    return ns or get_settings().namespace


def redis_key(name: str, ns: str | None = None) -> str:
    """``aurora:x`` → ``<ns>:x``; any other key (``decisions:…``, ``ratelimit:…``) → ``<ns>:<key>``."""
    ns = namespace(ns)
    if ns == DEFAULT:
        return name
    if name.startswith(f"{DEFAULT}:"):
        return f"{ns}{name[len(DEFAULT) :]}"
    return f"{ns}:{name}"


def nats_stream(ns: str | None = None) -> str:
    """The JetStream stream: ``AURORA`` by default."""
    return namespace(ns).upper()


def nats_subject(subject: str, ns: str | None = None) -> str:
    """``AURORA.x`` → ``<NS>.x`` and ``aurora.x`` → ``<ns>.x``; other subjects are not ours."""
    head, dot, rest = subject.partition(".")
    if not dot or head.lower() != DEFAULT:
        return subject
    ns = namespace(ns)
    return f"{ns.upper() if head.isupper() else ns}.{rest}"


def nats_durable(durable: str, ns: str | None = None) -> str:
    ns = namespace(ns)
    return durable if ns == DEFAULT else f"{ns}-{durable}"


def mqtt_root(ns: str | None = None) -> str:
    """The first level of every MQTT topic: ``aurora`` by default."""
    return namespace(ns)
