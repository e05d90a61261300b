// `edgecnn profile --html FILE`: one self-contained HTML page (inline CSS and SVG, no
// scripts, nothing fetched) with the per-layer table and bar charts of where time goes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgecnn::cli {

struct ProfileRow {
    std::string layer, op, kernel, output;
    double ms = 0, percent = 0, gflops = 0, percent_of_peak = 0;
    int64_t macs = 0;
};

struct ProfileReport {
    std::string model, inputs;
    int threads = 1, runs = 0;
    double total_ms = 0, sum_ms = 0, peak_gflops = 0;
    int64_t total_macs = 0;
    std::vector<ProfileRow> rows;  // execution order
};

// Throws Error(Io) naming the file when it cannot be written.
void write_profile_html(const std::string& path, const ProfileReport& r);

}  // namespace edgecnn::cli
