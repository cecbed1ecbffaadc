"""Column types shared by the models."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from .clock import SHANGHAI


class AwareDateTime(TypeDecorator):
    """Stores UTC, returns Asia/Shanghai aware datetimes on every backend.

    SQLite has no time zones and would hand back naive values; PostgreSQL's
    ``timestamptz`` would hand back the session zone. Normalising here means no
    code ever compares a naive datetime with an aware one.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("AwareDateTime refuses naive datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(SHANGHAI)


class ExactDecimal(TypeDecorator):
    """A decimal with a fixed number of places, stored as a scaled integer.

    SQLite keeps NUMERIC as a binary float, so 万元 amounts would drift; storing
    hundredths in a BIGINT is exact on SQLite and PostgreSQL alike.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places
        self._quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        if value != value.quantize(self._quantum):
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(value.scaleb(self.places))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places).quantize(self._quantum)
