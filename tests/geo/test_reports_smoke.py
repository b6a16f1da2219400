from __future__ import annotations

import httpx

from tests.conftest import DAM_SQUARE, World, bearer, report_body


async def test_resident_submits_a_report_into_the_dam_neighbourhood(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/v1/jurisdictions/amsterdam/reports",
        json=report_body(),
        headers=bearer(world.tokens["resident"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["area"] == {"id": world.areas["Dam"], "name": "Dam", "level": "neighbourhood"}
    assert body["location"]["coordinates"] == list(DAM_SQUARE)
    assert "contact" not in body
