"""Unit tests of the app's modules, run in the same Chromium (the modules are ES modules for a
browser): the outbox queue, photo resizing, translations; and the harness guarding itself."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.mobile_client.harness import AccessibilityError, App
from tests.mobile_client.photos import heic

IMPORT = "const base = document.querySelector('script[type=module]').src.replace(/js\\/main\\.js$/, '');"


def run(app: App, body: str, arg: object = None) -> Any:  # what the page's JavaScript returned
    return app.page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)


def test_the_outbox_keeps_one_key_across_retries_and_sends_each_item_once(app: App) -> None:
    app.open("/welcome")
    result = run(
        app,
        """
        const outbox = await import(base + 'js/outbox.js');
        const calls = [];
        let failures = 2;
        outbox.registerSender('unit-flaky', async (item) => {
          calls.push(item.idempotencyKey);
          if (failures-- > 0) throw Object.assign(new Error('offline'), { retryable: true });
          return { ok: true };
        });
        const item = await outbox.enqueue('unit-flaky', { n: 1 });
        await outbox.flush(); await outbox.flush(); await outbox.flush();
        const done = await outbox.get(item.id);

        // Many flushes at once (page, `online`, Background Sync): the slow sender runs once.
        const slow = [];
        outbox.registerSender('unit-slow', async (it) => {
          slow.push(it.id);
          await new Promise((r) => setTimeout(r, 300));
          return { ok: true };
        });
        const second = await outbox.enqueue('unit-slow', {});
        await Promise.all([outbox.flush(), outbox.flush(), outbox.flush(), outbox.flush()]);
        await outbox.settled(second.id, 5000);
        await outbox.flush();
        return { calls, key: item.idempotencyKey, state: done.state, attempts: done.attempts,
                 result: done.result, slow: slow.length, secondState: (await outbox.get(second.id)).state };
        """,
    )
    assert result["calls"] == [result["key"]] * 3
    assert (result["state"], result["attempts"], result["result"]) == ("sent", 3, {"ok": True})
    assert (result["slow"], result["secondState"]) == (1, "sent")


def test_a_refused_item_fails_with_the_fields_and_can_be_sent_again(app: App) -> None:
    app.open("/welcome")
    result = run(
        app,
        """
        const outbox = await import(base + 'js/outbox.js');
        const api = await import(base + 'js/api.js');
        let refuse = true;
        outbox.registerSender('unit-refused', async () => {
          if (refuse) throw api.problemToError(422, { code: 'invalid-extra-fields',
                                                      errors: { pole_number: 'this field is required' } });
          return { ok: 1 };
        });
        const item = await outbox.enqueue('unit-refused', {});
        const failed = await outbox.settled(item.id, 5000);
        refuse = false;
        await outbox.retry(item.id);
        return { failed: failed.state, error: failed.error, after: (await outbox.get(item.id)).state };
        """,
    )
    assert result["failed"] == "failed"
    assert result["error"]["code"] == "invalid-extra-fields"
    assert result["error"]["fields"] == {
        "extra.pole_number": {"message": "this field is required", "type": "extra"}
    }
    assert result["after"] == "sent"


def test_a_queued_item_survives_closing_the_app(app: App) -> None:
    app.open("/welcome")
    key = run(
        app,
        """
        const outbox = await import(base + 'js/outbox.js');
        outbox.registerSender('unit-later', async () => { throw Object.assign(new Error('no'), { retryable: true }); });
        const item = await outbox.enqueue('unit-later', { text: 'bewaard' });
        await outbox.flush();
        return item.id;
        """,
    )
    app.page.reload()
    app.wait_for_screen()
    stored = run(app, "const o = await import(base + 'js/outbox.js'); return await o.get(arg);", key)
    assert stored["payload"] == {"text": "bewaard"}
    assert stored["state"] == "waiting" and stored["idempotencyKey"] == key


def test_photos_are_made_small_on_the_phone(app: App) -> None:
    app.open("/welcome")
    result = run(
        app,
        """
        const photos = await import(base + 'js/photos.js');
        // A 12-megapixel photo full of detail (noise compresses worst).
        const canvas = new OffscreenCanvas(4000, 3000);
        const ctx = canvas.getContext('2d');
        const pixels = ctx.createImageData(4000, 3000);
        for (let i = 0; i < pixels.data.length; i += 4) {
          const v = (i * 2654435761) >>> 24;
          pixels.data[i] = v; pixels.data[i + 1] = 255 - v; pixels.data[i + 2] = (v * 7) & 255; pixels.data[i + 3] = 255;
        }
        ctx.putImageData(pixels, 0, 0);
        const big = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
        const ready = await photos.prepare(new File([big], 'IMG_1234.JPG', { type: 'image/jpeg' }));

        const clear = new OffscreenCanvas(300, 200);
        clear.getContext('2d');
        const png = await clear.convertToBlob({ type: 'image/png' });
        const fromPng = await photos.prepare(new File([png], 'schets.png', { type: 'image/png' }));
        const back = await createImageBitmap(fromPng.blob);
        const probe = new OffscreenCanvas(1, 1).getContext('2d');
        probe.drawImage(back, 0, 0);
        const corner = Array.from(probe.getImageData(0, 0, 1, 1).data);

        let unreadable = null;
        try { await photos.prepare(new File(['geen foto'], 'notitie.txt', { type: 'text/plain' })); }
        catch (e) { unreadable = e.code; }
        return { original: big.size, size: ready.blob.size, type: ready.blob.type, width: ready.width,
                 height: ready.height, name: ready.name, pngType: fromPng.blob.type, corner, unreadable };
        """,
    )
    assert result["original"] > 2_000_000
    assert (result["width"], result["height"]) == (1600, 1200)
    assert result["size"] <= 500_000 and result["type"] == "image/jpeg" and result["name"] == "IMG_1234.jpg"
    assert result["pngType"] == "image/jpeg" and result["corner"][:3] == [
        255,
        255,
        255,
    ]  # transparent -> white
    assert result["unreadable"] == "photo-unreadable"


def test_an_iphone_heic_that_the_browser_cannot_decode_is_sent_as_it_is(app: App) -> None:
    app.open("/welcome")
    result = run(
        app,
        """
        const photos = await import(base + 'js/photos.js');
        const bytes = Uint8Array.from(atob(arg), (c) => c.charCodeAt(0));
        const ready = await photos.prepare(new File([bytes], 'IMG_0042.HEIC', { type: 'image/heic' }));
        return { converted: ready.converted, size: ready.blob.size, name: ready.name, given: bytes.length };
        """,
        base64.b64encode(heic()).decode(),
    )
    # Chromium has no HEIC decoder: the original goes to the server, which re-encodes it (pillow-heif).
    assert (
        result["converted"] is False
        and result["size"] == result["given"]
        and result["name"] == "IMG_0042.HEIC"
    )


def test_translations_fill_placeholders_and_plurals_in_both_languages(app: App) -> None:
    app.open("/welcome")
    result = run(
        app,
        """
        const i18n = await import(base + 'js/i18n.js');
        const out = {};
        for (const lang of ['nl', 'en']) {
          i18n.useCatalog(lang, await i18n.loadCatalog(lang));
          out[lang] = [i18n.t('report.check.photo_count', { count: 1 }), i18n.t('report.check.photo_count', { count: 3 }),
                       i18n.t('report.sent', { id: 1234 }), i18n.distance(1530), i18n.pick({ nl: 'Afval', en: 'Waste' })];
        }
        return out;
        """,
    )
    assert result["nl"] == [
        "1 foto",
        "3 foto's",
        "Je melding is verstuurd. Het nummer is 1234.",
        "1,5 km",
        "Afval",
    ]
    assert result["en"] == [
        "1 photo",
        "3 photos",
        "Your report was sent. Its number is 1234.",
        "1.5 km",
        "Waste",
    ]


def test_the_harness_sees_an_accessibility_violation_and_a_csp_violation(app: App) -> None:
    """Guard the guard: a field without a label, and an inline script, both fail the check."""
    app.open("/welcome")
    app.check_accessibility()
    app.page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    with pytest.raises(AccessibilityError, match="label"):
        app.check_accessibility()
    app.open("/welcome")
    app.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.append(s); }"
    )
    with pytest.raises(AccessibilityError, match="Content-Security-Policy"):
        app.check_accessibility()
