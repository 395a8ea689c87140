from sqlalchemy import text

from shared.storage import create_engine


async def test_database_url_gives_a_working_empty_database(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO probe (id) VALUES (1)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM probe"))).scalar() == 1
    finally:
        await engine.dispose()
