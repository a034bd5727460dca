"""Acts on the status page in a running headless Chromium, as a person on a
phone would, and checks what the page does (tests/integration/page.sh):

- at 360 px wide the path is drawn top to bottom, no text of it runs out of
  the drawing and the page scrolls only vertically;
- tapping a hop opens its checks;
- given a router area (and a router check that fails), the router hop is
  drawn between the public IP and the uplink NIC, red, naming the gateway;
  without one it is not;
- tapping a plot gives its readout (local time and the value with its unit),
  which stays through a refresh;
  the status band's readout at the right end names the current status;
- one tap on a fix's copy button puts the command on the clipboard, with
  the clipboard API and, where it is missing, with the fallback;
- the range buttons switch the plots to the last day;
- prefers-color-scheme: dark gives the dark colours.

Usage: page_actions.py DEVTOOLS_PORT URL act CHECK_ID; CHECK_ID is a check
that is not OK and has a fix. Prints "ok: ..." lines; exits 1 at the first
failure.

page_actions.py DEVTOOLS_PORT URL shots PREFIX: screenshots of the page
loaded anew at 390x844 and 1280x800, light and dark (prefers-color-scheme
as the browser reports it), in PREFIX-390-light.png ... PREFIX-1280-dark.png.
"""
import base64
import json
import re
import sys
import time

sys.path.insert(0, sys.path[0])
from cdp import Cdp  # noqa: E402


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def q(selector):
    return "document.querySelector(%s)" % json.dumps(selector)


def last_point(c, selector):
    """Viewport coordinates of the last point of the last polyline, or the
    middle of the last rectangle, matching selector, scrolled into view."""
    c.center(selector)
    r = c.js("""(() => { const all = document.querySelectorAll(%s); const e = all[all.length - 1];
        if (!e) return null; const s = e.ownerSVGElement; const p = s.createSVGPoint();
        if (e.points) { const l = e.points.getItem(e.points.numberOfItems - 1); p.x = l.x; p.y = l.y; }
        else { const b = e.getBBox(); p.x = b.x + b.width / 2; p.y = b.y + b.height / 2; }
        const v = p.matrixTransform(s.getScreenCTM()); return [v.x, v.y]; })()""" % json.dumps(selector))
    if not r:
        fail("nothing matches " + selector)
    return r


def load(c, url, width, height, scheme):
    """The page loaded anew at that size and colour scheme, its data shown."""
    c.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
           mobile=width < 600)
    c.call("Emulation.setEmulatedMedia",
           features=[{"name": "prefers-color-scheme", "value": scheme}])
    c.call("Page.navigate", url="about:blank")
    c.call("Page.navigate", url=url + "/")
    c.wait_for("document.body && document.body.dataset.loaded === 'yes'", "the page's data")


def shots(c, url, prefix):
    for width, height in ((390, 844), (1280, 800)):
        for scheme in ("light", "dark"):
            load(c, url, width, height, scheme)
            time.sleep(0.3)  # the plots drawn at their width
            png = base64.b64decode(c.call("Page.captureScreenshot", format="png")["data"])
            if not png.startswith(b"\x89PNG"):
                fail("the screenshot at %dx%d %s is no PNG" % (width, height, scheme))
            with open("%s-%d-%s.png" % (prefix, width, scheme), "wb") as f:
                f.write(png)
    ok("screenshots %s-{390,1280}-{light,dark}.png" % prefix)


def act(c, url, check):
    load(c, url, 360, 780, "light")

    # ---- 360 px wide
    c.wait_for(q("#path svg.vertical") + " !== null", "the path drawn top to bottom at 360 px")
    wide = c.js("document.documentElement.scrollWidth")
    if wide > 360:
        fail("at 360 px the page is %d px wide" % wide)
    out = c.js("""(() => { const s = document.querySelector('#path svg');
        const w = s.viewBox.baseVal.width;
        return [...s.querySelectorAll('text')].filter(t => { const b = t.getBBox();
          return b.x < 0 || b.x + b.width > w + 1; }).map(t => t.textContent); })()""")
    if out:
        fail("path text runs out of the drawing at 360 px: %r" % out)
    small = c.js("""Math.min(...[...document.querySelectorAll('#path svg text')].map(t =>
        parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getBoundingClientRect().width
        / t.ownerSVGElement.viewBox.baseVal.width))""")
    if small < 11:
        fail("path text is %.1f px at 360 px" % small)
    ok("360 px: the path top to bottom, its text inside the drawing (at least %.1f px), "
       "no sideways scrolling" % small)

    # ---- a hop opens its checks
    x, y, _, _ = c.center('#path g.hop[data-hop="wireguard"]')
    c.click(x, y)
    c.wait_for(q("#hop-detail") + ".dataset.hop === 'wireguard'", "the WireGuard hop's checks")
    if not c.js(q('#hop-detail li[data-check="wireguard.interface"]') + " !== null"):
        fail("the WireGuard hop's panel does not list wireguard.interface")
    ok("tapping the WireGuard hop opens its checks")

    # ---- the router hop: drawn from a router area, in its place
    hops = c.js("""(() => { const doc = JSON.parse(JSON.stringify(state.doc));
        doc.router = { gateway: '192.168.1.1', external_ip: '203.0.113.7', port: 51820 };
        doc.endpoint = Object.assign({}, doc.endpoint, { public_ip: null });
        doc.checks.push({ id: 'router.port_forward', status: 'critical',
          summary: 'the router forwards UDP 51820 to 192.168.1.30', fix: [] });
        renderPath(doc);
        const hops = [...document.querySelectorAll('#path g.hop')].map(g =>
          g.dataset.hop + '=' + g.dataset.status + ':' + g.textContent);
        const bare = JSON.parse(JSON.stringify(state.doc));
        bare.router = null;
        bare.checks = bare.checks.filter(x => !x.id.startsWith('router.'));
        renderPath(bare);
        const without = document.querySelectorAll('#path g.hop[data-hop="router"]').length;
        renderPath(state.doc);
        return { hops, without }; })()""")
    order = [h.split("=")[0] for h in hops["hops"]]
    router = [h for h in hops["hops"] if h.startswith("router=")]
    public = [h for h in hops["hops"] if h.startswith("public=")]
    if order[order.index("public") + 1:order.index("uplink")] != ["router"]:
        fail("the router hop is not between the public IP and the uplink NIC: %r" % order)
    if not router or not router[0].startswith("router=critical:") or "192.168.1.1" not in router[0]:
        fail("the router hop: %r" % router)
    if not public or "203.0.113.7" not in public[0]:
        fail("the public IP hop does not take the router's external address: %r" % public)
    if hops["without"]:
        fail("a router hop without a router area")
    ok("router hop: drawn between the public IP and the uplink NIC from a router area, red "
       "with its check, absent without")

    # ---- readouts
    plot = '.plot[data-series="memory.used_bytes"]'
    x, y = last_point(c, plot + " polyline")
    c.click(x, y)
    memory = c.wait_for("(() => { const t = %s.textContent; return /^\\d\\d:\\d\\d:\\d\\d · /.test(t) && t; })()"
                        % q(plot + " .readout"), "the memory plot's readout")
    if not re.fullmatch(r"\d\d:\d\d:\d\d · [\d.]+ (B|[KMGT]iB)", memory):
        fail("memory readout %r" % memory)
    again = c.js("drawPlots(), %s.textContent" % q(plot + " .readout"))
    if again != memory:
        fail("the memory readout did not survive a redraw: %r, then %r" % (memory, again))
    x, y = last_point(c, '.plot[data-series="status"] rect.band')
    c.click(x, y)
    band = c.wait_for("(() => { const t = %s.textContent; return /·/.test(t) && t; })()"
                      % q('.plot[data-series="status"] .readout'), "the status band's readout")
    if not re.fullmatch(r"\d\d:\d\d:\d\d · critical", band):
        fail("status band readout at its last step %r, not critical" % band)
    ok("readouts: memory %r, status band %r" % (memory, band))

    # ---- copying a fix with one tap: the clipboard API, then the fallback
    card = '#problems li[data-check="%s"]' % check
    fix = c.js(q(card + " code.fix") + ".textContent")
    c.call("Browser.grantPermissions", origin=url,
           permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    c.js("window.focus(); true")
    for way in ("the clipboard API", "the fallback"):
        c.js("navigator.clipboard.writeText('nothing yet')" if way == "the clipboard API"
             else "window.realClipboard.writeText('nothing yet')")
        c.js("delete %s.dataset.copied; true" % q(card + " button.copy"))
        x, y, _, _ = c.center(card + " button.copy")
        c.click(x, y)
        c.wait_for(q(card + " button.copy") + ".dataset.copied", "the copy button to answer")
        got = c.js("(window.realClipboard || navigator.clipboard).readText()")
        if got != fix:
            fail("after a tap on copy (%s) the clipboard holds %r, not %r" % (way, got, fix))
        ok("one tap copies %r (%s)" % (fix, way))
        c.js("window.realClipboard = navigator.clipboard; Object.defineProperty(navigator, "
             "'clipboard', {value: undefined, configurable: true}); true")

    # ---- the range
    x, y, _, _ = c.center('button[data-range="86400"]')
    c.click(x, y)
    c.wait_for("[...document.querySelectorAll('.plot .title > span:first-child')]"
               ".every(s => s.textContent.endsWith('last day'))", "the plots over the last day")
    if c.js(q('button[data-range="86400"]') + ".getAttribute('aria-pressed')") != "true":
        fail("the last-day button is not pressed")
    ok("the range buttons switch every plot to the last day")

    # ---- dark
    c.call("Page.navigate", url=url + "/")  # the clipboard as the page found it
    c.wait_for("document.body && document.body.dataset.loaded === 'yes'", "the page's data")
    light = c.js("getComputedStyle(document.body).backgroundColor")
    c.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
    time.sleep(0.2)
    dark = c.js("getComputedStyle(document.body).backgroundColor")
    hop = c.js("getComputedStyle(%s).stroke" % q('#path g.hop.critical .node'))
    if light == dark or dark != "rgb(20, 20, 22)":
        fail("prefers-color-scheme dark: background %s (light %s)" % (dark, light))
    ok("dark: background %s (light %s), a broken hop drawn in %s" % (dark, light, hop))


def main():
    port, url, mode, arg = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    c = Cdp(port)
    c.call("Page.enable")
    if mode == "shots":
        shots(c, url, arg)
    else:
        act(c, url, arg)


main()
