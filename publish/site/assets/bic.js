// bic.js draws a bic dashboard page: each chart from the ECharts option
// and the data embedded in the page, big numbers and tables as HTML, and
// the filter controls. The URL's query string holds the filter state
// (NAME=VALUE per filter, values written as `bic query --filter` takes
// them); a state other than the page's own is fetched from
// api/charts/DASHBOARD/CHART?STATE, relative to the page.
(function () {
  'use strict';

  function readJSON(el) {
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function key(v) { return JSON.stringify(v === undefined ? null : v); }

  // ---- formats: the same rules as the Go side (format.go).
  var formatters = {};
  function numberFormatter(f) {
    f = f || { format: 'number' };
    var k = key(f);
    if (formatters[k]) return formatters[k];
    var lo = 0, hi = 2, o = {};
    if (f.decimals !== undefined && f.decimals !== null) { lo = hi = f.decimals; }
    else if (f.format === 'currency') { lo = hi = (f.currency === 'JPY' ? 0 : 2); }
    else if (f.format === 'percent') { lo = 0; hi = 1; }
    o.minimumFractionDigits = lo;
    o.maximumFractionDigits = hi;
    if (f.format === 'currency' && f.currency) { o.style = 'currency'; o.currency = f.currency; }
    else if (f.format === 'percent') { o.style = 'percent'; }
    var nf;
    try { nf = new Intl.NumberFormat('en-US', o); } catch (e) { nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }); }
    formatters[k] = function (v) {
      var x = num(v);
      if (x === null) return v === null || v === undefined ? '\u2013' : String(v);
      return nf.format(x);
    };
    return formatters[k];
  }
  // compact is for axis labels: 1.2K, 3.4M, with the format's unit.
  function compactFormatter(f) {
    f = f || { format: 'number' };
    var o = { notation: 'compact', maximumFractionDigits: 1 };
    if (f.format === 'currency' && f.currency) { o.style = 'currency'; o.currency = f.currency; }
    else if (f.format === 'percent') { o.style = 'percent'; }
    var nf;
    try { nf = new Intl.NumberFormat('en-US', o); } catch (e) { nf = new Intl.NumberFormat('en-US'); }
    return function (v) { var x = num(v); return x === null ? '' : nf.format(x); };
  }
  function num(v) {
    if (v === null || v === undefined || v === '' || typeof v === 'boolean') return null;
    var x = typeof v === 'number' ? v : parseFloat(v);
    return isNaN(x) ? null : x;
  }
  function formatTime(s, grain) {
    if (s.length < 10) return s;
    switch (grain) {
      case 'year': return s.slice(0, 4);
      case 'quarter': return s.slice(0, 4) + ' Q' + (Math.floor((parseInt(s.slice(5, 7), 10) - 1) / 3) + 1);
      case 'month': return s.slice(0, 7);
      case 'week': case 'day': return s.slice(0, 10);
    }
    if (s.length >= 16 && s.charAt(10) === 'T') return s.slice(0, 10) + ' ' + s.slice(11, 16);
    return s.slice(0, 10);
  }
  function cellText(spec, name, v) {
    var col = spec.columns[name];
    if (col && col.type === 'metric') return numberFormatter(col.format)(v);
    if (v === null || v === undefined) return '\u2013';
    if (col && col.type === 'time') return formatTime(String(v), name === spec.x ? spec.grain : '');
    if (typeof v === 'number') return numberFormatter(null)(v);
    return String(v);
  }

  // ---- data
  function colIndex(data, name) {
    for (var i = 0; i < data.columns.length; i++) if (data.columns[i].name === name) return i;
    return -1;
  }
  function distinct(rows, i) {
    var seen = new Map(), out = [];
    rows.forEach(function (r) {
      var k = key(i < 0 ? null : r[i]);
      if (!seen.has(k)) { seen.set(k, out.length); out.push(i < 0 ? null : r[i]); }
    });
    return { values: out, index: seen };
  }
  function sortValues(vals) {
    return vals.slice().sort(function (a, b) {
      var x = num(a), y = num(b);
      if (x !== null && y !== null) return x - y;
      return String(a).localeCompare(String(b));
    });
  }
  function metricFormat(spec, m) { var c = spec.columns[m]; return c ? c.format : null; }

  // ---- ECharts options: the option built in Go, filled with the data.
  function buildOption(spec, data) {
    var opt = clone(spec.echarts) || {};
    // A headless renderer (runner/render) asks for the final frame at once.
    if (window.BIC_NO_ANIMATION) opt.animation = false;
    var L = spec.layout || {};
    var ci = L.category ? colIndex(data, L.category) : -1;
    var si = L.series ? colIndex(data, L.series) : -1;
    var templates = opt.series || [{}];
    var options = spec.options || {};
    var fmt0 = numberFormatter(metricFormat(spec, spec.metrics[0]));
    var catLabel = function (v) { return L.category ? cellText(spec, L.category, v) : ''; };
    opt.tooltip = opt.tooltip || {};
    opt.tooltip.valueFormatter = fmt0;
    switch (spec.type) {
      case 'line': case 'area': case 'bar': case 'scatter': {
        var horizontal = spec.type === 'bar' && options.horizontal;
        var numericX = spec.type === 'scatter' && opt.xAxis && opt.xAxis[0] && opt.xAxis[0].type === 'value';
        var cats = distinct(data.rows, ci);
        var groups = si >= 0 ? distinct(data.rows, si).values : [undefined];
        var series = [];
        var points = [];
        spec.metrics.forEach(function (m, mi) {
          var mIdx = colIndex(data, m), f = numberFormatter(metricFormat(spec, m));
          groups.forEach(function (g) {
            var s = clone(templates[mi] || templates[0]);
            if (si >= 0) {
              s.name = cellText(spec, L.series, g) + (spec.metrics.length > 1 ? ' \u00b7 ' + spec.columns[m].label : '');
            }
            var vals = numericX ? [] : new Array(cats.values.length).fill(null);
            data.rows.forEach(function (r) {
              if (si >= 0 && key(r[si]) !== key(g)) return;
              if (numericX) {
                var p = [num(r[ci]), num(r[mIdx])];
                vals.push(p);
                if (mi === 0) points.push(p);
              } else {
                vals[cats.index.get(key(ci < 0 ? null : r[ci]))] = num(r[mIdx]);
              }
            });
            s.data = vals;
            s.tooltip = { valueFormatter: f };
            s.label = s.label || {};
            s.label.formatter = function (p) { return f(Array.isArray(p.value) ? p.value[1] : p.value); };
            series.push(s);
          });
        });
        if (spec.type === 'scatter' && options.trend_line && numericX && points.length > 1) {
          series.push(trendLine(points));
        }
        opt.series = series;
        var catAxis = horizontal ? opt.yAxis[0] : opt.xAxis[0];
        var valAxis = horizontal ? opt.xAxis[0] : opt.yAxis[0];
        if (!numericX) catAxis.data = cats.values.map(catLabel);
        valAxis.axisLabel = { formatter: compactFormatter(metricFormat(spec, spec.metrics[0])) };
        if (spec.type === 'scatter') {
          opt.tooltip.formatter = function (p) {
            var v = Array.isArray(p.value) ? p.value : [p.name, p.value];
            return escapeHTML(p.seriesName) + '<br>' + escapeHTML(String(v[0])) + ': ' + escapeHTML(fmt0(v[1]));
          };
        }
        break;
      }
      case 'heatmap': {
        var yi = colIndex(data, L.y), vi = colIndex(data, spec.metrics[0]);
        var xs = sortValues(distinct(data.rows, ci).values), ys = sortValues(distinct(data.rows, yi).values);
        var xk = new Map(xs.map(function (v, i) { return [key(v), i]; }));
        var yk = new Map(ys.map(function (v, i) { return [key(v), i]; }));
        var lo = Infinity, hi = -Infinity;
        var cells = data.rows.map(function (r) {
          var v = num(r[vi]);
          if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
          return [xk.get(key(r[ci])), yk.get(key(r[yi])), v];
        });
        var s = clone(templates[0]);
        s.data = cells;
        s.label = s.label || {};
        s.label.formatter = function (p) { return fmt0(p.value[2]); };
        opt.series = [s];
        opt.xAxis[0].data = xs.map(catLabel);
        opt.yAxis[0].data = ys.map(function (v) { return cellText(spec, L.y, v); });
        var vm = Array.isArray(opt.visualMap) ? opt.visualMap[0] : opt.visualMap;
        if (vm) {
          vm.min = isFinite(lo) ? lo : 0;
          vm.max = isFinite(hi) ? hi : 1;
          vm.formatter = function (v) { return fmt0(v); };
        }
        opt.tooltip.formatter = function (p) {
          return escapeHTML(xs.length ? catLabel(xs[p.value[0]]) : '') + ', ' +
            escapeHTML(cellText(spec, L.y, ys[p.value[1]])) + ': ' + escapeHTML(fmt0(p.value[2]));
        };
        break;
      }
      case 'pie': case 'funnel': {
        var mi2 = colIndex(data, spec.metrics[0]);
        var items = data.rows.map(function (r) { return { name: catLabel(ci < 0 ? null : r[ci]), value: num(r[mi2]) }; });
        var top = items.reduce(function (a, it) { return Math.max(a, it.value || 0); }, 0);
        var s2 = clone(templates[0]);
        s2.data = items;
        s2.label = s2.label || {};
        var sep = spec.type === 'pie' ? '\n' : ': ';
        if (spec.type === 'pie') s2.label.lineHeight = 15;
        s2.label.formatter = function (p) {
          if (options.percent) {
            var share = spec.type === 'pie' ? p.percent / 100 : (top ? p.value / top : 0);
            return p.name + sep + numberFormatter({ format: 'percent', decimals: 1 })(share);
          }
          return p.name + sep + fmt0(p.value);
        };
        opt.series = [s2];
        break;
      }
    }
    return opt;
  }
  function trendLine(points) {
    var n = points.length, sx = 0, sy = 0, sxx = 0, sxy = 0, lo = Infinity, hi = -Infinity;
    points.forEach(function (p) {
      if (p[0] === null || p[1] === null) return;
      sx += p[0]; sy += p[1]; sxx += p[0] * p[0]; sxy += p[0] * p[1];
      lo = Math.min(lo, p[0]); hi = Math.max(hi, p[0]);
    });
    var d = n * sxx - sx * sx, b = d ? (n * sxy - sx * sy) / d : 0, a = (sy - b * sx) / n;
    return { type: 'line', name: 'Trend', data: [[lo, a + b * lo], [hi, a + b * hi]], showSymbol: false,
      lineStyle: { type: 'dashed', width: 1.5 }, tooltip: { show: false } };
  }
  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // ---- charts on the page
  function Chart(el) {
    this.el = el;
    this.spec = readJSON(el.querySelector('script.bic-spec')) || {};
    this.initial = readJSON(el.querySelector('script.bic-data'));
    this.body = el.querySelector('.bic-body');
    this.csv = el.querySelector('a.bic-csv');
    this.csvHref = this.csv ? this.csv.getAttribute('href') : null;
    this.asof = el.querySelector('.bic-asof');
    this.asofHTML = this.asof ? this.asof.innerHTML : '';
    this.foot = el.querySelector('.bic-cell-foot');
    this.staleAt = this.foot ? this.foot.getAttribute('data-stale-at') : null;
    this.initialStaleAt = this.staleAt;
    this.sort = null;
    this.page = 0;
    this.data = this.initial;
    this.settled = false;
    this.drawing = false;
  }
  Chart.prototype.drawn = function () {
    return ['big_number', 'table'].indexOf(this.spec.type) < 0;
  };
  // formatInstant writes a time as the page does: in the project's time zone.
  function formatInstant(s) {
    var d = new Date(s);
    if (isNaN(d.getTime())) return String(s);
    var o = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZoneName: 'short' };
    try { return new Intl.DateTimeFormat('en-GB', Object.assign({ timeZone: config.timezone || 'UTC' }, o)).format(d); } catch (e) { return d.toISOString(); }
  }
  Chart.prototype.message = function (text) {
    if (this.ec) { this.ec.dispose(); this.ec = null; }
    this.body.innerHTML = '';
    var p = document.createElement('p');
    p.className = 'bic-empty bic-error';
    p.textContent = text;
    this.body.appendChild(p);
    this.settle(text);
  };
  // The rendered signal: <body data-bic-rendered="true"> once every chart
  // has drawn (ECharts' finished event: animations done) or shows a
  // message, which its section also carries as data-bic-error. It is
  // "false" while a filter change is loading or drawing. Tests and the
  // benchmark wait for it.
  Chart.prototype.pending = function () {
    this.settled = false;
    this.drawing = false;
    document.body.dataset.bicRendered = 'false';
  };
  Chart.prototype.settle = function (error) {
    this.drawing = false;
    if (error) this.el.setAttribute('data-bic-error', error);
    else this.el.removeAttribute('data-bic-error');
    this.settled = true;
    this.shown = true;
    if (charts.every(function (c) { return c.settled; })) document.body.dataset.bicRendered = 'true';
    shownAll();
  };
  // shownAll marks the moment every chart first showed its data (its
  // first frame drawn, before ECharts' animation ends) as the performance
  // entry "bic-drawn", once per page: what a viewer sees, and what the
  // benchmark reads.
  var drawnMarked = false;
  function shownAll() {
    if (drawnMarked || !charts.every(function (c) { return c.shown; })) return;
    drawnMarked = true;
    if (window.performance && performance.mark) performance.mark('bic-drawn');
  }
  Chart.prototype.render = function () {
    var self = this, data = this.data;
    if (!data || !data.columns) { this.message('No data yet: this chart has not been computed.'); return; }
    if (!data.rows || data.rows.length === 0) { this.message('No rows for this filter state.'); return; }
    if (this.spec.type === 'big_number') { this.renderBig(); return; }
    if (this.spec.type === 'table') { this.renderTable(); return; }
    if (typeof echarts === 'undefined') { this.message('The chart library did not load.'); return; }
    var canvas = this.body.querySelector('.bic-canvas');
    if (!canvas) {
      if (this.ec) { this.ec.dispose(); this.ec = null; }
      this.body.innerHTML = '';
      canvas = document.createElement('div');
      canvas.className = 'bic-canvas';
      this.body.appendChild(canvas);
    }
    if (!this.ec) {
      this.ec = echarts.init(canvas, null, { renderer: 'canvas' });
      this.ec.on('finished', function () { if (self.drawing) self.settle(); });
      this.ec.on('rendered', function () { if (!self.shown) { self.shown = true; shownAll(); } });
    }
    try {
      this.drawing = true;
      this.ec.setOption(buildOption(this.spec, data), true);
    } catch (e) {
      this.message('This chart could not be drawn: ' + e.message);
    }
  };
  Chart.prototype.renderBig = function () {
    var spec = this.spec, data = this.data, m = spec.metrics[0];
    var row = data.rows[data.rows.length - 1];
    var f = numberFormatter(metricFormat(spec, m));
    var v = row[colIndex(data, m)];
    var box = document.createElement('div');
    box.className = 'bic-big';
    var val = document.createElement('span');
    val.className = 'bic-big-value';
    val.textContent = f(v);
    box.appendChild(val);
    if (spec.compare) {
      var prev = row[colIndex(data, m + '_previous')];
      var c = change(v, prev);
      var ch = document.createElement('span');
      ch.className = 'bic-big-change bic-' + c.cls;
      ch.innerHTML = '<span class="bic-arrow"></span> ';
      ch.firstChild.textContent = c.arrow;
      ch.appendChild(document.createTextNode(c.text));
      box.appendChild(ch);
      var vs = document.createElement('span');
      vs.className = 'bic-big-versus';
      var grain = spec.grain || 'day';
      vs.textContent = (spec.compare === 'previous_year' ? 'vs the same ' + grain + ' a year earlier' : 'vs the ' + grain + ' before') + ': ' + f(prev);
      box.appendChild(vs);
    }
    this.body.innerHTML = '';
    this.body.appendChild(box);
    this.settle();
  };
  function change(cur, prev) {
    var x = num(cur), p = num(prev);
    if (x === null || p === null) return { arrow: '', text: 'no earlier data', cls: 'flat' };
    if (p === 0 && x === 0) return { arrow: '\u2192', text: '0%', cls: 'flat' };
    if (p === 0) return { arrow: '\u25b2', text: 'new', cls: 'up' };
    var ch = (x - p) / Math.abs(p) * 100, s = Math.abs(ch).toFixed(1) + '%';
    if (s === '0.0%') return { arrow: '\u2192', text: '0%', cls: 'flat' };
    return ch > 0 ? { arrow: '\u25b2', text: '+' + s, cls: 'up' } : { arrow: '\u25bc', text: '-' + s, cls: 'down' };
  }
  Chart.prototype.renderTable = function () {
    var self = this, spec = this.spec, data = this.data;
    var size = (spec.options && spec.options.page_size) || 25;
    var rows = data.rows.slice();
    if (this.sort) {
      var i = this.sort.col, dir = this.sort.desc ? -1 : 1;
      rows.sort(function (a, b) {
        var x = a[i], y = b[i];
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        var nx = num(x), ny = num(y);
        if (nx !== null && ny !== null && typeof x !== 'boolean') return (nx - ny) * dir;
        return String(x).localeCompare(String(y)) * dir;
      });
    }
    var pages = Math.max(1, Math.ceil(rows.length / size));
    this.page = Math.min(this.page, pages - 1);
    var table = document.createElement('table');
    table.className = 'bic-table';
    var thead = table.createTHead().insertRow();
    data.columns.forEach(function (c, i) {
      var th = document.createElement('th');
      th.scope = 'col';
      var col = spec.columns[c.name] || {};
      var numeric = col.type === 'metric' || col.type === 'number';
      if (numeric) th.className = 'bic-num';
      if (self.sort && self.sort.col === i) th.setAttribute('aria-sort', self.sort.desc ? 'descending' : 'ascending');
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'bic-sort';
      b.textContent = col.label || c.name;
      b.addEventListener('click', function () {
        self.sort = self.sort && self.sort.col === i ? { col: i, desc: !self.sort.desc } : { col: i, desc: numeric };
        self.page = 0;
        self.renderTable();
      });
      th.appendChild(b);
      thead.appendChild(th);
    });
    var tbody = table.createTBody();
    rows.slice(this.page * size, this.page * size + size).forEach(function (r) {
      var tr = tbody.insertRow();
      data.columns.forEach(function (c, i) {
        var td = tr.insertCell();
        var col = spec.columns[c.name] || {};
        if (col.type === 'metric' || col.type === 'number') td.className = 'bic-num';
        td.textContent = cellText(spec, c.name, r[i]);
      });
    });
    var wrap = document.createElement('div');
    wrap.className = 'bic-table-wrap';
    wrap.appendChild(table);
    this.body.innerHTML = '';
    this.body.appendChild(wrap);
    if (pages > 1) {
      var pager = document.createElement('div');
      pager.className = 'bic-pager';
      var prev = document.createElement('button'), next = document.createElement('button');
      prev.type = next.type = 'button';
      prev.textContent = '\u2039';
      next.textContent = '\u203a';
      prev.disabled = this.page === 0;
      next.disabled = this.page >= pages - 1;
      prev.addEventListener('click', function () { self.page--; self.renderTable(); });
      next.addEventListener('click', function () { self.page++; self.renderTable(); });
      pager.appendChild(prev);
      pager.appendChild(document.createTextNode(' page ' + (this.page + 1) + ' of ' + pages + ' (' + rows.length + ' rows) '));
      pager.appendChild(next);
      this.body.appendChild(pager);
    }
    this.settle();
  };
  // markStale shows "stale" once the data is older than its dataset's
  // refresh schedule says, by the viewer's clock: a page published long
  // ago, or a server that has not seen a newer release, still tells.
  Chart.prototype.markStale = function () {
    if (!this.foot) return;
    var mark = this.foot.querySelector('.bic-stale');
    var t = this.staleAt ? Date.parse(this.staleAt) : NaN;
    var stale = !isNaN(t) && Date.now() >= t;
    if (stale && !mark) {
      mark = document.createElement('span');
      mark.className = 'bic-stale';
      mark.title = "older than its dataset's refresh schedule";
      mark.textContent = 'stale';
      var csv = this.foot.querySelector('a.bic-csv');
      this.foot.insertBefore(document.createTextNode(' '), csv);
      this.foot.insertBefore(mark, csv);
    } else if (!stale && mark) {
      mark.parentNode.removeChild(mark);
    }
  };
  Chart.prototype.show = function (data, computedAt, csvURL, isDefault, staleAt) {
    this.data = data;
    this.staleAt = isDefault ? this.initialStaleAt : staleAt;
    this.markStale();
    if (this.asof) {
      if (isDefault) this.asof.innerHTML = this.asofHTML;
      else this.asof.textContent = computedAt ? 'as of ' + formatInstant(computedAt) : '';
    }
    if (this.csv) {
      var href = isDefault ? this.csvHref : csvURL;
      if (href) { this.csv.setAttribute('href', href); this.csv.hidden = false; } else { this.csv.hidden = true; }
    }
    this.render();
  };

  // ---- filters and the URL
  var config = readJSON(document.getElementById('bic-config')) || { dashboard: '', filters: [] };
  var form = document.getElementById('bic-filters');
  var banner = document.getElementById('bic-message');
  var charts = [];

  function field(name) { return form ? form.elements.namedItem(name) : null; }
  // readState writes each filter's control as URL text.
  function readState() {
    var st = {};
    config.filters.forEach(function (f) {
      var v = '', el;
      switch (f.type) {
        case 'select': case 'multi_select':
          el = field(f.name);
          if (!el) break;
          if (el.multiple) {
            v = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }).join(',');
          } else {
            v = el.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean).join(',');
          }
          break;
        case 'date_range': {
          var r = field(f.name), from = field(f.name + '.from'), to = field(f.name + '.to');
          if (r && r.value) { v = r.value; break; }
          var a = from ? from.value : '', b = to ? to.value : '';
          if (a || b) v = (a || '0001-01-01') + '..' + b;
          break;
        }
        case 'number_range': {
          var lo = field(f.name + '.min'), hi = field(f.name + '.max');
          var x = lo ? lo.value : '', y = hi ? hi.value : '';
          if (x || y) v = x + '..' + y;
          break;
        }
      }
      st[f.name] = v;
    });
    return st;
  }
  function writeState(st) {
    config.filters.forEach(function (f) {
      if (!(f.name in st)) return;
      var v = st[f.name], el;
      switch (f.type) {
        case 'select': case 'multi_select':
          el = field(f.name);
          if (!el) break;
          if (el.tagName === 'SELECT') {
            var want = v.split(',');
            Array.prototype.forEach.call(el.options, function (o) { o.selected = want.indexOf(o.value) >= 0; });
            if (!el.multiple && want.length && !Array.prototype.some.call(el.options, function (o) { return o.value === want[0]; })) {
              var o = document.createElement('option');
              o.value = o.textContent = want[0];
              o.selected = true;
              el.appendChild(o);
            }
          } else {
            el.value = v;
          }
          break;
        case 'date_range': {
          var r = field(f.name), from = field(f.name + '.from'), to = field(f.name + '.to');
          var span = v.indexOf('..') >= 0 ? v.split('..') : null;
          if (r) {
            if (!span && v && !Array.prototype.some.call(r.options, function (o) { return o.value === v; })) {
              var opt = document.createElement('option');
              opt.value = v;
              opt.textContent = v.replace(/_/g, ' ');
              r.insertBefore(opt, r.lastElementChild);
            }
            r.value = span ? '' : (v || 'all');
          }
          if (from) from.value = span && span[0] !== '0001-01-01' ? span[0] : '';
          if (to) to.value = span ? span[1] : '';
          break;
        }
        case 'number_range': {
          var parts = v ? v.split('..') : ['', ''];
          var lo = field(f.name + '.min'), hi = field(f.name + '.max');
          if (lo) lo.value = parts[0] || '';
          if (hi) hi.value = parts[1] || '';
          break;
        }
      }
    });
  }
  function queryString(st) {
    return config.filters.map(function (f) {
      return encodeURIComponent(f.name) + '=' + encodeURIComponent(st[f.name] || '').replace(/%2C/gi, ',');
    }).join('&');
  }
  function stateFromURL() {
    var params = new URLSearchParams(location.search), st = {}, any = false;
    config.filters.forEach(function (f) {
      if (params.has(f.name)) { st[f.name] = params.get(f.name); any = true; }
    });
    return any ? st : null;
  }
  function say(text) {
    if (!banner) return;
    banner.textContent = text || '';
    banner.hidden = !text;
  }

  // A static export has no API: a filter change to a precomputed state
  // opens that state's page (its file is listed in config.pages).
  var exported = /\.html$/.test(location.pathname);
  function pageOf(st) {
    var vals = config.filters.map(function (f) { return st[f.name] || ''; });
    var pages = config.pages || [];
    for (var i = 0; i < pages.length; i++) {
      if (pages[i].values.length === vals.length && pages[i].values.every(function (v, j) { return v === vals[j]; })) return pages[i].file;
    }
    return null;
  }
  function defaultPage() { return config.dashboard + '.html'; }

  var pageState = null, pageQuery = '', generation = 0;
  function load(query) {
    var gen = ++generation;
    if (exported && query !== pageQuery) {
      var file = pageOf(readState());
      if (file) {
        document.body.dataset.bicRendered = 'false';
        location.href = file + (file === defaultPage() ? '' : '?' + query);
        return;
      }
    }
    if (query === pageQuery) {
      charts.forEach(function (c) { c.pending(); });
      charts.forEach(function (c) { c.show(c.initial, null, null, true); });
      say('');
      return;
    }
    document.body.classList.add('bic-loading');
    charts.forEach(function (c) { c.pending(); });
    var failed = 0;
    var pending = charts.map(function (c) {
      var url = c.spec.api + '?' + query;
      return fetch(url, { headers: { Accept: 'application/json' } }).then(function (resp) {
        if (!resp.ok) {
          throw new Error(resp.status === 404 ? 'This filter state is not available: it was not precomputed.' :
            'The data for this filter state could not be loaded (HTTP ' + resp.status + ').');
        }
        return resp.json().then(function (j) {
          if (gen !== generation) return;
          var data = j && j.columns ? j : (j && j.data);
          c.show(data, (j && j.computed_at) || resp.headers.get('X-Bic-Computed-At'), j && j.csv_url, false, resp.headers.get('X-Bic-Stale-At'));
        });
      }).catch(function (err) {
        if (gen !== generation) return;
        failed++;
        var text = err instanceof TypeError ?
          'This filter state is not available here: the page could not reach a server to compute it (a static export serves only precomputed states).' :
          err.message;
        c.message(text);
        if (c.csv) c.csv.hidden = true;
        if (c.asof) c.asof.textContent = '';
      });
    });
    Promise.all(pending).then(function () {
      if (gen !== generation) return;
      document.body.classList.remove('bic-loading');
      say(failed ? failed + ' of ' + charts.length + ' charts are not available for this filter state. Reset the filters to see the published data.' : '');
    });
  }
  function apply(push) {
    var q = queryString(readState());
    if (push && history.pushState) history.pushState(null, '', q === pageQuery ? location.pathname : '?' + q);
    load(q);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('section.bic-cell'), function (el) {
      charts.push(new Chart(el));
    });
    charts.forEach(function (c) {
      c.markStale();
      if (!c.initial) c.settle('No data yet: this chart has not been computed.');
      else if (c.drawn() || c.spec.type === 'table') c.render();
      else c.settle(); // a big number, drawn in the HTML
    });
    if (!charts.length) document.body.dataset.bicRendered = 'true';
    pageState = readState();
    pageQuery = queryString(pageState);
    var fromURL = stateFromURL();
    if (fromURL) {
      writeState(fromURL);
      var q = queryString(readState());
      if (q !== pageQuery) load(q);
    }
    if (form) {
      form.addEventListener('submit', function (e) { e.preventDefault(); apply(true); });
      form.addEventListener('input', function (e) {
        var t = e.target;
        if (!t.classList || !t.classList.contains('bic-search')) return;
        var sel = t.parentNode.querySelector('select'), q = t.value.trim().toLowerCase();
        if (!sel) return;
        Array.prototype.forEach.call(sel.options, function (o) {
          o.hidden = q !== '' && o.value !== '' && o.textContent.toLowerCase().indexOf(q) < 0;
        });
      });
      form.addEventListener('change', function (e) {
        if (e.target.classList && e.target.classList.contains('bic-search')) return;
        var t = e.target, name = t.name || '';
        if (/\.(from|to)$/.test(name)) { var r = field(name.replace(/\.(from|to)$/, '')); if (r) r.value = ''; }
        if (t.classList && t.classList.contains('bic-range') && t.value) {
          var a = field(name + '.from'), b = field(name + '.to');
          if (a) a.value = '';
          if (b) b.value = '';
        }
        apply(true);
      });
      var reset = form.querySelector('.bic-reset');
      if (reset) reset.addEventListener('click', function () {
        // The page of a precomputed state leads back to the default page.
        if (config.state_page) {
          document.body.dataset.bicRendered = 'false';
          location.href = exported ? defaultPage() : location.pathname;
          return;
        }
        writeState(pageState);
        apply(true);
      });
    }
    window.addEventListener('popstate', function () {
      writeState(stateFromURL() || pageState);
      load(queryString(readState()));
    });
    var timer = null;
    window.addEventListener('resize', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { charts.forEach(function (c) { if (c.ec) c.ec.resize(); }); }, 100);
    });
  }

  // ---- bic dev: the page follows its server's live channel when the
  // server says it has one (only bic dev's does, in the page's
  // Server-Timing, with the release the page came from): a new release reloads the page,
  // whose URL keeps the filter state; an error of the last change shows as
  // a banner while this release keeps serving.
  function liveBanner(text) {
    var el = document.getElementById('bic-live-error');
    if (!text) {
      if (el) el.parentNode.removeChild(el);
      return;
    }
    if (!el) {
      el = document.createElement('div');
      el.id = 'bic-live-error';
      el.setAttribute('role', 'alert');
      el.style.cssText = 'position:sticky;top:0;z-index:10;margin:0 0 8px;padding:8px 12px;background:#fdecea;color:#611a15;border-bottom:2px solid #d93025;font:13px/1.4 ui-monospace,monospace';
      var head = document.createElement('strong');
      head.textContent = 'This change did not go live; the page shows the last good revision.';
      var pre = document.createElement('pre');
      pre.style.cssText = 'margin:6px 0 0;white-space:pre-wrap;overflow:auto;max-height:40vh';
      el.appendChild(head);
      el.appendChild(pre);
      document.body.insertBefore(el, document.body.firstChild);
    }
    el.lastChild.textContent = text;
  }
  // The page's release is in its response's Server-Timing. A small poll
  // rather than server-sent events: a browser opens at most six
  // connections to one host, and each open dev tab would hold one.
  function pageRelease() {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType('navigation')[0] : null;
    var timing = nav && nav.serverTiming ? nav.serverTiming : [];
    for (var i = 0; i < timing.length; i++) {
      if (timing[i].name === 'bic-live' && /^[0-9a-f]{1,64}$/.test(timing[i].description)) return timing[i].description;
    }
    return null;
  }
  function live() {
    var mine = pageRelease();
    if (!mine || !window.fetch || exported) return;
    function poll() {
      fetch('../live?once=1', { cache: 'no-store', headers: { Accept: 'application/json' } }).then(function (resp) {
        if (resp.status === 404) return null; // no live channel (any more)
        if (!resp.ok) throw new Error('HTTP ' + resp.status);
        return resp.json();
      }).then(function (ev) {
        if (!ev) return;
        document.body.dataset.bicLive = 'open';
        liveBanner(ev.error || '');
        if (ev.release && ev.release !== mine) {
          document.body.dataset.bicLive = 'reloading';
          location.reload();
          return;
        }
        setTimeout(poll, 100);
      }, function () {
        // bic dev stopped or restarts: look again later.
        document.body.dataset.bicLive = 'lost';
        setTimeout(poll, 2000);
      });
    }
    poll();
  }

  function boot() {
    start();
    live();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
