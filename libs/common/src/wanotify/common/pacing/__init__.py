"""Dispatch pacing shared by every worker process through Redis (see ``pacer``)."""

from wanotify.common.pacing.model import PaceDecision, PaceRequest
from wanotify.common.pacing.pacer import Pacer

__all__ = ["PaceDecision", "PaceRequest", "Pacer"]
