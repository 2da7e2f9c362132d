"""Drift alerts: the message and its delivery to the configured target.

The DAG calls ``notify`` from an Airflow notifier when ``compute_drift`` finishes; the CLI
prints the same message. Targets: ``log`` (a warning in the task log), ``webhook`` (a JSON
POST, e.g. to a Slack or Teams incoming webhook or an on-call tool) or ``email`` (SMTP).
Delivery problems are raised with the target named, never with the URL's secret part.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from segmentation.config import AlertsConfig
from segmentation.errors import SegmentationError
from segmentation.monitoring.drift import LEVELS

log = logging.getLogger(__name__)


def should_notify(result: dict[str, Any], cfg: AlertsConfig) -> bool:
    """Whether a drift result reaches the configured minimum level."""
    return LEVELS.index(result.get("level", "ok")) >= LEVELS.index(cfg.min_level)


def message(result: dict[str, Any], report: str | None = None) -> dict[str, Any]:
    """The alert as JSON: what happened, which features, where to look."""
    features = ", ".join(result.get("drifted_features") or []) or "none"
    text = (
        f"Customer segmentation {result['run_date']}: drift {result['level']}; "
        f"drifted features: {features}."
    )
    if result.get("level") == "alert":
        text += " The model will be retrained at the next run."
    if report:
        text += f" Report: {report}"
    return {
        "text": text,
        "run_date": result["run_date"],
        "level": result["level"],
        "drifted_features": list(result.get("drifted_features") or []),
        "report": report,
    }


def notify(result: dict[str, Any], cfg: AlertsConfig, report: str | None = None) -> bool:
    """Send the alert for ``result`` if it reaches ``cfg.min_level``; True when sent."""
    if not should_notify(result, cfg):
        return False
    payload = message(result, report)
    if cfg.target == "log":
        log.warning("%s", payload["text"])
    elif cfg.target == "webhook":
        _post(cfg, payload)
    else:
        _email(cfg, payload)
    return True


def _post(cfg: AlertsConfig, payload: dict[str, Any]) -> None:
    assert cfg.url is not None  # checked when the config is parsed
    where = _redacted(cfg.url)
    request = urllib.request.Request(
        cfg.url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout_seconds) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise SegmentationError(f"alert webhook {where} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SegmentationError(f"alert webhook {where} is unreachable: {reason}") from None


def _email(cfg: AlertsConfig, payload: dict[str, Any]) -> None:
    mail = EmailMessage()
    mail["Subject"] = f"[segmentation] drift {payload['level']} on {payload['run_date']}"
    mail["From"] = cfg.email_from
    mail["To"] = ", ".join(cfg.email_to)
    mail.set_content(payload["text"])
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds) as smtp:
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise SegmentationError(
            f"alert email through {cfg.smtp_host}:{cfg.smtp_port} failed: {exc}"
        ) from None


def _redacted(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries often carry the secret token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
