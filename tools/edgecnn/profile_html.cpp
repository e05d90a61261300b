#include "profile_html.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "base/cpu_features.hpp"
#include "base/error.hpp"

namespace edgecnn::cli {

namespace {

std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

struct Bar {
    std::string label, detail;
    double ms = 0;
};

// A horizontal bar chart as inline SVG: one row per bar, the longest bar spans the width.
std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, double total_ms) {
    const int label_w = 300, chart_w = 520, row_h = 20, top = 8;
    const int h = top + row_h * int(bars.size()) + 8;
    double mx = 1e-12;
    for (const Bar& b : bars) mx = std::max(mx, b.ms);
    std::ostringstream o;
    o << "<figure><figcaption>" << esc(title) << "</figcaption>\n";
    o << "<svg class=\"chart\" role=\"img\" aria-label=\"" << esc(title) << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\""
      << label_w + chart_w + 150 << "\" height=\"" << h << "\">\n";
    for (size_t i = 0; i < bars.size(); ++i) {
        const Bar& b = bars[i];
        const int y = top + int(i) * row_h;
        const double w = std::max(3.0, double(chart_w) * b.ms / mx);  // every bar visible
        std::string label = b.label.size() > 44 ? std::string("...") + b.label.substr(b.label.size() - 41) : b.label;
        o << "<g><title>" << esc(b.label + " " + b.detail) << "</title>"
          << "<text x=\"" << label_w - 6 << "\" y=\"" << y + 14 << "\" text-anchor=\"end\">" << esc(label) << "</text>"
          << "<rect class=\"bar\" x=\"" << label_w << "\" y=\"" << y + 3 << "\" width=\"" << fmt("%.1f", w)
          << "\" height=\"" << row_h - 6 << "\"/>"
          << "<text x=\"" << label_w + int(w) + 6 << "\" y=\"" << y + 14 << "\">"
          << fmt("%.3f ms", b.ms) << " (" << fmt("%.1f", 100.0 * b.ms / std::max(total_ms, 1e-12)) << "%)</text></g>\n";
    }
    o << "</svg></figure>\n";
    return o.str();
}

}  // namespace

void write_profile_html(const std::string& path, const ProfileReport& r) {
    // Time by op type, and the slowest layers.
    std::map<std::string, Bar> by_op;
    for (const ProfileRow& row : r.rows) {
        Bar& b = by_op[row.op];
        b.label = row.op;
        b.ms += row.ms;
    }
    std::vector<Bar> ops;
    for (auto& [k, b] : by_op) ops.push_back(b);
    std::sort(ops.begin(), ops.end(), [](const Bar& a, const Bar& b) { return a.ms > b.ms; });
    std::vector<size_t> order(r.rows.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return r.rows[a].ms > r.rows[b].ms; });
    std::vector<Bar> top;
    for (size_t i = 0; i < order.size() && i < 25; ++i) {
        const ProfileRow& row = r.rows[order[i]];
        top.push_back({row.layer, row.op + " " + row.kernel + " " + row.output, row.ms});
    }
    const double gflops = r.total_ms > 0 ? 2.0 * double(r.total_macs) / (r.total_ms * 1e6) : 0;

    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      << "<title>edgecnn profile: " << esc(r.model) << "</title>\n<style>\n"
      << "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}\n"
      << "h1{font-size:20px;margin:0 0 8px}.meta{color:#555;margin-bottom:16px}\n"
      << "figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}\n"
      << "svg.chart text{font:12px sans-serif;fill:#222}svg.chart rect.bar{fill:#d9480f}\n"
      << "table{border-collapse:collapse;font-size:12px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}\n"
      << "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{position:sticky;top:0;background:#f6f6f6}\n"
      << ".pct{display:inline-block;height:8px;background:#d9480f;vertical-align:middle;margin-right:4px}\n"
      << "</style></head><body>\n";
    o << "<h1>edgecnn profile</h1>\n<div class=\"meta\">model <b>" << esc(r.model) << "</b><br>inputs " << esc(r.inputs)
      << "<br>threads " << r.threads << ", " << r.runs << " profiled runs, CPU kernels " << esc(isa_name(active_isa()))
      << "<br>total <b>" << fmt("%.3f", r.total_ms) << " ms</b> per run (sum of layers " << fmt("%.3f", r.sum_ms) << " ms), "
      << r.rows.size() << " layers, " << fmt("%.3f", double(r.total_macs) / 1e9) << " GMACs, " << fmt("%.1f", gflops)
      << " GFLOP/s (" << fmt("%.1f", 100.0 * gflops / std::max(r.peak_gflops, 1e-9)) << "% of a " << fmt("%.0f", r.peak_gflops)
      << " GFLOP/s peak)</div>\n";
    o << bar_chart("Time by op type", ops, r.sum_ms);
    o << bar_chart("Slowest layers (up to 25)", top, r.sum_ms);
    o << "<h2>All layers, in execution order</h2>\n<table><thead><tr><th>#</th><th>layer</th><th>op</th><th>kernel</th>"
         "<th>output</th><th>ms</th><th>% of total</th><th>GFLOP/s</th><th>% of peak</th></tr></thead><tbody>\n";
    for (size_t i = 0; i < r.rows.size(); ++i) {
        const ProfileRow& row = r.rows[i];
        o << "<tr><td class=\"n\">" << i << "</td><td>" << esc(row.layer) << "</td><td>" << esc(row.op) << "</td><td>"
          << esc(row.kernel) << "</td><td>" << esc(row.output) << "</td><td class=\"n\">" << fmt("%.3f", row.ms)
          << "</td><td class=\"n\"><span class=\"pct\" style=\"width:" << fmt("%.0f", std::min(100.0, row.percent))
          << "px\"></span>" << fmt("%.1f", row.percent) << "</td><td class=\"n\">" << fmt("%.1f", row.gflops)
          << "</td><td class=\"n\">" << fmt("%.1f", row.percent_of_peak) << "</td></tr>\n";
    }
    o << "</tbody></table>\n</body></html>\n";
    std::ofstream f(path);
    if (!f || !(f << o.str())) throw Error(ErrorKind::Io, path + ": cannot write the HTML report");
}

}  // namespace edgecnn::cli
