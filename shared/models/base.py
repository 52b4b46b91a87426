"""The base of the OMS's pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built on first use, not at import.

    A function imports far more models than any one invocation touches (every API model of its
    routes, every stored shape of the tables it reads), and building them all at import was a large
    part of every cold start. Subclasses' own `model_config` merges with this one.
    """

    model_config = ConfigDict(defer_build=True)
