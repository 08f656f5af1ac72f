"""The map page's own JavaScript and CSS (no external code): badges, clusters, labels, popups.

Everything a page needs beyond Leaflet and Leaflet.markercluster lives here as text and is
written into the page once, so the exported HTML stays self-contained.
"""

from __future__ import annotations

__all__ = ["PAGE_CSS", "PAGE_JS"]

PAGE_CSS = """
.leaflet-container { background: #f3f1ec; font-family: "Noto Sans CJK JP", "Hiragino Sans",
  "Yu Gothic", "Meiryo", sans-serif; }
.scgeo-badge { width: 22px; height: 22px; border-radius: 50%; border: 1.5px solid #2b2b2b;
  box-sizing: border-box; display: flex; align-items: center; justify-content: center;
  font-size: 12px; font-weight: 700; line-height: 1; box-shadow: 0 1px 2px rgba(0,0,0,.35); }
.scgeo-badge.inactive { background: #d9d9d9 !important; color: #777 !important;
  border: 1.5px dashed #777; box-shadow: none; }
.scgeo-badge.stale::after { content: "!"; position: absolute; top: -5px; right: -5px; width: 11px;
  height: 11px; border-radius: 50%; background: #fff; color: #c62828; border: 1px solid #c62828;
  font-size: 9px; line-height: 11px; text-align: center; }
.scgeo-badge.coarse { background: #fff !important; border: 2.5px dashed currentColor; box-shadow: none; }
.scgeo-popup .coarse { color: #8a5a00; font-weight: 600; }
.scgeo-badge.need { width: 18px; height: 18px; border-radius: 3px; font-size: 10px; }
.scgeo-cluster { border-radius: 50%; border: 2px solid #fff; color: #111; font-weight: 700;
  display: flex; align-items: center; justify-content: center; font-size: 12px;
  box-shadow: 0 0 0 2px rgba(0,0,0,.35); }
.scgeo-label { pointer-events: none; }
.scgeo-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.scgeo-label-living_area span { font-size: 17px; font-weight: 800; color: #14304f; letter-spacing: .05em; }
.scgeo-label-jhs_district span { font-size: 12px; font-weight: 600; color: #3d5875; }
.scgeo-label-town_block span { font-size: 10px; color: #5f6b76; }
.scgeo-label-count span { font-size: 13px; font-weight: 800; color: #6a1b9a; background: rgba(255,255,255,.85);
  border: 1px solid #6a1b9a; border-radius: 9px; padding: 0 6px; text-shadow: none; transform: translate(-50%, 55%); }
.scgeo-legend .scgeo-label-count span { transform: none; }
.scgeo-popup table { border-collapse: collapse; font-size: 12px; }
.scgeo-popup th { text-align: left; color: #555; font-weight: 600; padding: 1px 8px 1px 0; white-space: nowrap;
  vertical-align: top; }
.scgeo-popup td { padding: 1px 0; }
.scgeo-popup .stale { color: #c62828; font-weight: 700; }
.scgeo-box { background: rgba(255,255,255,.94); border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.3);
  font-size: 12px; line-height: 1.5; }
.scgeo-legend { padding: 6px 10px; max-height: calc(100vh - 140px); overflow: auto; min-width: 190px; }
.scgeo-legend:has(details:not([open])) { min-width: 0; }  /* folded: the 凡例 button only */
.scgeo-legend summary { font-weight: 700; font-size: 13px; cursor: pointer; }
.scgeo-legend h4 { margin: 6px 0 2px; font-size: 12px; color: #333; }
.scgeo-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; white-space: nowrap; }
.scgeo-legend .row .scgeo-badge { width: 18px; height: 18px; font-size: 10px; position: relative; }
.scgeo-legend .swatch { width: 18px; height: 12px; border: 1px solid #555; display: inline-block; }
.scgeo-legend .line { width: 24px; height: 0; display: inline-block; }
.scgeo-legend .n { color: #666; margin-left: auto; padding-left: 8px; }
.scgeo-legend .hint { width: 18px; text-align: center; color: #555; }
.scgeo-layers-open .scgeo-legend, .scgeo-layers-open .scgeo-title { display: none; }
.leaflet-control-attribution { max-width: calc(100vw - 190px); white-space: normal; text-align: right; }
.leaflet-control-layers-expanded { max-height: calc(100% - 60px); overflow-y: auto; }
.scgeo-title { position: absolute; top: 10px; left: 56px; z-index: 1000; padding: 6px 14px;
  max-width: calc(100% - 130px); box-sizing: border-box; }
.scgeo-title .t { font-size: 18px; font-weight: 800; color: #14304f; }
.scgeo-title .s { font-size: 11px; color: #444; }
.scgeo-banner { position: absolute; top: 0; left: 0; right: 0; z-index: 1001; background: #c62828; color: #fff;
  text-align: center; font-weight: 800; font-size: 16px; padding: 4px; letter-spacing: .1em; }
.scgeo-internal .scgeo-title { top: 42px; }
.scgeo-internal .leaflet-top { top: 32px; }
"""

PAGE_JS = r"""
window.scgeo = window.scgeo || {categories: {}, needs: {}, areas: {}, overlays: {}, ready: false,
  startedAt: performance.now()};
(function (S) {
  var ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
  S.esc = function (v) { return String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; }); };
  S.textColor = function (hex) {
    var n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? '#1a1a1a' : '#ffffff';
  };
  S.badgeHtml = function (letter, color, cls) {
    return '<div class="scgeo-badge ' + (cls || '') + '" style="background:' + color + ';color:' +
      S.textColor(color) + '">' + S.esc(letter) + '</div>';
  };
  S.label = function (latlng, text, kind) {
    return L.marker(latlng, {interactive: false, keyboard: false, pane: 'tooltipPane', icon: L.divIcon({
      className: 'scgeo-label scgeo-label-' + kind, html: '<span>' + S.esc(text) + '</span>', iconSize: null})});
  };
  // Need counts and area names share a point when the map is zoomed out. Counts stay where they
  // are; names, 圏域 before 中学校区, move up above a count that covers them, and are hidden (the
  // boundary's tooltip still names the area) if they would still cover a count or a name already
  // placed. Maps without counts keep every name. Run after every zoom, move, resize and layer change.
  S.declutter = function (map) {
    var root = map.getContainer();
    function hit(a, b) { return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top); }
    function run() {
      var names = [].slice.call(root.querySelectorAll('.scgeo-label-living_area span'))
        .concat([].slice.call(root.querySelectorAll('.scgeo-label-jhs_district span')));
      names.forEach(function (n) { n.style.marginTop = ''; n.style.visibility = ''; });
      var placed = [].map.call(root.querySelectorAll('.scgeo-label-count span'),
                               function (e) { return e.getBoundingClientRect(); });
      if (!placed.length) return;
      names.forEach(function (n) {
        var b = n.getBoundingClientRect(), lift = 0;
        if (!b.width) return;  // in a layer switched off
        placed.forEach(function (a) { if (hit(a, b)) lift = Math.max(lift, b.bottom - a.top + 2); });
        if (lift) { n.style.marginTop = (-lift) + 'px'; b = n.getBoundingClientRect(); }
        if (lift && placed.some(function (a) { return hit(a, b); })) n.style.visibility = 'hidden';
        else placed.push(b);
      });
    }
    map.on('zoomend moveend resize overlayadd overlayremove', run);
    run();
  };
  // The map's furniture: the legend lists only what is switched on (rows with data-layers), hints
  // (data-unless) while a layer is off; the legend steps aside while the layer list is open; the
  // tile basemap gives way to the built-in street map when its tiles cannot load (offline).
  S.furniture = function (map, control, tiles, vector) {
    var byName = {}, box = map.getContainer().querySelector('.scgeo-legend');
    control._layers.forEach(function (o) { byName[o.name] = o.layer; });
    S.layersControl = control;
    function on(name) { return byName[name] ? map.hasLayer(byName[name]) : false; }
    S.syncLegend = function () {
      if (!box) return;
      box.querySelectorAll('.row').forEach(function (r) {
        var show = true;
        if (r.dataset.layers) show = JSON.parse(r.dataset.layers).some(on);
        if (r.dataset.unless) show = show && !on(r.dataset.unless);
        r.style.display = show ? '' : 'none';
      });
      box.querySelectorAll('section').forEach(function (sec) {
        var any = [].some.call(sec.querySelectorAll('.row'), function (r) { return r.style.display !== 'none'; });
        sec.style.display = any ? '' : 'none';
      });
    };
    map.on('overlayadd overlayremove baselayerchange', S.syncLegend);
    S.syncLegend();
    S.declutter(map);
    var details = box && box.querySelector('details');  // a narrow map (a frame in the app): legend folded
    S.foldLegend = function () { if (details) details.open = map.getContainer().clientWidth >= 720; };
    S.foldLegend();
    var ctl = control.getContainer(), container = map.getContainer();
    new MutationObserver(function () {
      container.classList.toggle('scgeo-layers-open', ctl.classList.contains('leaflet-control-layers-expanded'));
    }).observe(ctl, {attributes: true, attributeFilter: ['class']});
    var credit = container.querySelector('.scgeo-background');  // the title's 「背景:」 follows the basemap
    function background(kind) { if (credit && credit.dataset[kind]) credit.textContent = credit.dataset[kind]; }
    map.on('baselayerchange', function (e) { background(vector && e.layer === vector ? 'vector' : 'tiles'); });
    S.tileFallback = !!(tiles && vector);  // the tiles give way to the street map when none loads
    if (tiles && vector) {
      var loaded = false;
      tiles.on('tileload', function () { loaded = true; });
      tiles.on('tileerror', function () {
        if (loaded || !map.hasLayer(tiles)) return;
        loaded = true;  // once: the user may pick the tiles again from the layer list
        map.removeLayer(tiles); map.addLayer(vector);
        S.basemapFallback = true; background('vector'); S.syncLegend();
      });
    }
  };
  // Fit the town to the part of the map its furniture leaves free, as laid out now (the legend
  // folded on a narrow map). Each box reserves either a band across the map at its top or bottom
  // edge, or a strip down its left or right side: of all those choices, the one that lets the town
  // be drawn largest (the title and buttons make a band at the top, the scale and the credit one at
  // the bottom; an open legend a strip on the right when the town is wider than the room is tall).
  // A map drawn before its frame has its size (hidden, or still being laid out), or whose boxes
  // change size after (the font arrives, the title's 「背景:」 changes with the basemap), is fitted
  // again, until the user first touches it.
  var FURNITURE = '.scgeo-title, .scgeo-banner, .leaflet-control';
  S.fit = function (map, bounds) {
    var c = map.getContainer(), touched = false;
    S.fitBounds = L.latLngBounds(bounds);  // what is fitted (the tests measure it)
    function place() {
      // (not while the layer list is open: it hides the title for the while, and the town stays put)
      if (touched || !c.clientWidth || !c.clientHeight || c.classList.contains('scgeo-layers-open')) return;
      map.invalidateSize({pan: false});
      if (S.foldLegend) S.foldLegend();
      var m = c.getBoundingClientRect(), gap = 8, boxes = [];
      c.querySelectorAll(FURNITURE).forEach(function (e) {
        var r = e.getBoundingClientRect();
        if (!r.width || !r.height || !e.offsetParent) return;
        var top = r.top - m.top < m.bottom - r.bottom, left = r.left - m.left < m.right - r.right;
        boxes.push({band: top ? ['top', r.bottom - m.top] : ['bottom', m.bottom - r.top],
                    strip: left ? ['left', r.right - m.left] : ['right', m.right - r.left]});
      });
      var best = {top: 0, right: 0, bottom: 0, left: 0}, bestZoom = -Infinity;
      for (var mask = 0; mask < (1 << boxes.length); mask++) {
        var pad = {top: 0, right: 0, bottom: 0, left: 0};
        boxes.forEach(function (b, i) {
          var side = (mask >> i) & 1 ? b.strip : b.band;
          pad[side[0]] = Math.max(pad[side[0]], side[1]);
        });
        var across = pad.left + pad.right + 2 * gap, down = pad.top + pad.bottom + 2 * gap;
        if (across > m.width / 2 || down > m.height / 2) continue;  // no room left (Leaflet would zoom right in)
        var zoom = map.getBoundsZoom(S.fitBounds, false, L.point(across, down));
        if (zoom > bestZoom) { best = pad; bestZoom = zoom; }
      }
      map.fitBounds(S.fitBounds, {paddingTopLeft: [best.left + gap, best.top + gap],
                                  paddingBottomRight: [best.right + gap, best.bottom + gap], animate: false});
    }
    ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function (kind) {
      c.addEventListener(kind, function () { touched = true; }, {capture: true, passive: true});
    });
    if (!c.clientWidth || !c.clientHeight) map.setView(S.fitBounds.getCenter(), 12, {animate: false});
    place();
    if (window.ResizeObserver) {
      var watch = new ResizeObserver(place);
      watch.observe(c);
      c.querySelectorAll(FURNITURE).forEach(function (e) { watch.observe(e); });
    }
  };
  // Show only the resources whose ids are given (null: all), without redrawing the page: the app
  // sends the ids of a filter change instead of a new map. Category groups need ids (click hook).
  S.show = function (ids) {
    var want = ids ? new Set(ids.map(String)) : null, total = 0, counts = {};
    Object.keys(S.categories).forEach(function (code) {
      var g = S.categories[code], all = g._scgeoMarkers, gid = g._scgeoIds;
      if (!all || !gid) return;
      var keep = all.filter(function (m, i) { return !want || want.has(String(gid[i])); });
      g.clearLayers();
      if (g.addLayers) g.addLayers(keep); else keep.forEach(function (m) { g.addLayer(m); });
      counts[code] = keep.length; total += keep.length;
    });
    var box = S.map && S.map.getContainer().querySelector('.scgeo-legend');
    if (box) box.querySelectorAll('.row[data-code]').forEach(function (r) {
      var n = r.querySelector('.n'), c = counts[r.dataset.code];
      if (n && c !== undefined) n.textContent = c.toLocaleString();
    });
    S.shown = total;
    return total;
  };
  window.addEventListener('message', function (e) {
    if (e.source === window.parent && e.data && e.data.scgeoShow !== undefined) S.show(e.data.scgeoShow);
  });
  S.popup = function (fields, row, offset) {
    var html = '<div class="scgeo-popup"><table>';
    for (var i = 0; i < fields.length; i++) {
      var v = row[offset + i];
      if (v === null || v === undefined || v === '') v = '—';
      var cls = (fields[i].stale && row[2]) ? ' class="stale"' : (fields[i].coarse ? ' class="coarse"' : '');
      if (fields[i].coarse && v === '—') continue;  // a precise position: no line
      html += '<tr><th>' + S.esc(fields[i].label) + '</th><td' + cls + '>' + S.esc(v) +
        ((fields[i].stale && row[2]) ? ' ⚠ 要確認' : '') + '</td></tr>';
    }
    return html + '</table></div>';
  };
  // rows: [lon, lat, flags (1 inactive | 2 stale), field values...]
  S.points = function (spec) {
    var t0 = performance.now();
    var icons = {};
    function icon(flags) {
      if (!icons[flags]) {
        var cls = (flags & 1 ? 'inactive ' : '') + (flags & 2 ? 'stale ' : '') + (flags & 4 ? 'coarse' : '');
        var html = S.badgeHtml(spec.letter, spec.color, cls);
        if (flags & 4) html = html.replace('background:' + spec.color + ';color:' + S.textColor(spec.color),
          'color:' + spec.color);  // hollow: the category colour on the ring and the letter
        icons[flags] = L.divIcon({className: 'scgeo-m scgeo-m-' + spec.code, iconSize: [22, 22], iconAnchor: [11, 11],
          popupAnchor: [0, -10], html: html});
      }
      return icons[flags];
    }
    function perRowIcon(color, letter) {  // needs (internal maps): colour and letter per row
      var key = color + letter;
      if (!icons[key]) icons[key] = L.divIcon({className: 'scgeo-m scgeo-m-' + spec.code, iconSize: [18, 18],
        iconAnchor: [9, 9], popupAnchor: [0, -8], html: S.badgeHtml(letter, color, 'need')});
      return icons[key];
    }
    var group = (spec.cluster && !spec.circles) ? L.markerClusterGroup({
      maxClusterRadius: spec.clusterRadius, disableClusteringAtZoom: spec.clusterOffAt,
      showCoverageOnHover: false, spiderfyOnMaxZoom: true,
      iconCreateFunction: function (c) {
        var n = c.getChildCount(), size = n < 10 ? 28 : (n < 100 ? 34 : 42);
        return L.divIcon({className: 'scgeo-c scgeo-c-' + spec.code, iconSize: [size, size],
          html: '<div class="scgeo-cluster" style="width:' +
          size + 'px;height:' + size + 'px;background:' + spec.color + ';color:' + S.textColor(spec.color) +
          '">' + n + '</div>'});
      }}) : L.featureGroup();
    var markers = new Array(spec.rows.length), nf = spec.fields.length;
    var circleOn = {radius: 5, color: '#222', weight: 0.8, fillColor: spec.color, fillOpacity: 0.9,
      renderer: spec.circles && (S.canvas = S.canvas || L.canvas({padding: 0.2}))};
    var circleOff = L.extend({}, circleOn, {color: '#777', fillColor: '#d9d9d9', dashArray: '2 2'});
    spec.rows.forEach(function (row, i) {
      var flags = row[2] ? 2 : 0;
      if (row[3] & 1) flags |= 1;
      if (row[3] & 2) flags |= 4;  // placed at a 町丁目 / 大字 representative point
      var m;
      if (spec.circles) {  // many points: one shared canvas, no DOM element per marker
        S.canvas = S.canvas || L.canvas({padding: 0.2});
        m = L.circleMarker([row[1], row[0]], (flags & 1) ? circleOff : circleOn);
      } else {
        var ic = spec.perRow ? perRowIcon(row[4 + nf], row[5 + nf]) : icon(flags);
        m = L.marker([row[1], row[0]], {icon: ic, title: row[4 + spec.nameIndex]});
      }
      m.bindPopup(function () { return S.popup(spec.fields, row, 4); }, {maxWidth: 320});
      markers[i] = m;
    });
    if (spec.cluster && !spec.circles) group.addLayers(markers);
    else markers.forEach(function (m) { group.addLayer(m); });
    group._scgeoMarkers = markers;
    group.options.attribution = spec.attribution || null;
    S[spec.registry || 'categories'][spec.code] = group;
    S.pointsMs = (S.pointsMs || 0) + performance.now() - t0;
    return group;
  };
})(window.scgeo);
"""
