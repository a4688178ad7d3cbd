"""What a consumer keeps in its service's database, and the one transaction that keeps it.

- `forget_consumers(session, consumers)`: deletes those consumers' inbox ids and stored offsets,
  in the caller's transaction (a dropped projection generation, a consumer renamed). Signature
  stable: reporting's rebuild machinery uses it.

The pieces: `etalase_platform.inbox` (applied event ids), `etalase_platform.offsets` (next offsets),
both over the tables of `etalase_platform.tables`.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from etalase_platform import inbox, offsets


async def forget_consumers(session: AsyncSession, consumers: Sequence[str]) -> None:
    await inbox.forget(session, consumers)
    await offsets.forget(session, consumers)
