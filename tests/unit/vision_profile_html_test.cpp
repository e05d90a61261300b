// `edgecnn profile --html`: the report opened in headless Chromium (Debian's chromium)
// renders its bar charts (counted in a screenshot), logs nothing to the console and makes
// no network request (read from Chromium's own net log). A deliberately bad page first
// proves that the harness sees console errors and network requests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_test_util.hpp"
#include "vision/image.hpp"

using namespace edgecnn;

namespace {
const char* kChromium = "/usr/bin/chromium";

struct Rendered {
    int exit_code = -1;
    std::vector<std::string> console;        // console messages of any level
    std::vector<std::string> page_requests;  // non-file URLs the page asked for
    vision::Image shot;
};

Rendered render(const std::filesystem::path& html, const std::filesystem::path& dir) {
    Rendered r;
    auto shot = dir / "shot.png", netlog = dir / "net.json", err = dir / "chromium.err", profile = dir / "profile";
    std::filesystem::remove_all(profile);
    // Root in a container needs --no-sandbox; the background-traffic switches only reduce
    // noise: page requests are told apart by their network isolation key (file://).
    std::string cmd = std::string("timeout 120 ") + kChromium +
                      " --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                      " --disable-background-networking --disable-component-update --disable-sync"
                      " --force-device-scale-factor=1 --hide-scrollbars --window-size=1200,1700"
                      " --user-data-dir=" + profile.string() + " --screenshot=" + shot.string() +
                      " --log-net-log=" + netlog.string() + " --enable-logging=stderr --v=0 file://" +
                      std::filesystem::absolute(html).string() + " >/dev/null 2>" + err.string();
    int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(err);
    std::string line;
    while (std::getline(e, line))
        if (line.find(":CONSOLE") != std::string::npos) r.console.push_back(line);
    std::ifstream n(netlog);
    nlohmann::json log = nlohmann::json::parse(n, nullptr, false);
    if (log.is_object() && log.contains("events"))
        for (const auto& ev : log["events"]) {
            if (!ev.contains("params") || !ev["params"].is_object()) continue;
            const auto& p = ev["params"];
            if (!p.contains("url") || !p.contains("network_isolation_key")) continue;
            std::string url = p["url"].get<std::string>(), key = p["network_isolation_key"].get<std::string>();
            if (key.find("file://") != std::string::npos && url.rfind("file:", 0) != 0) r.page_requests.push_back(url);
        }
    else
        r.page_requests.push_back("(net log unreadable: " + netlog.string() + ")");
    if (std::filesystem::exists(shot)) r.shot = vision::load_image(shot.string(), 3);
    return r;
}

bool is_bar(const uint8_t* p) {  // #d9480f, the charts' bar colour
    return std::abs(p[0] - 0xd9) < 12 && std::abs(p[1] - 0x48) < 12 && std::abs(p[2] - 0x0f) < 12;
}
}  // namespace

TEST(VisionProfileHtml, RendersChartsInHeadlessChromiumWithoutConsoleOrNetwork) {
    if (!std::filesystem::exists(kChromium)) GTEST_FAIL() << kChromium << " missing: install chromium (scripts/setup.sh --test)";
    auto dir = test::temp_dir("vision_html");

    // The harness must see what it is meant to catch.
    auto bad = dir / "bad.html";
    std::ofstream(bad) << "<!doctype html><html><body><img src=\"http://example.invalid/x.png\">"
                          "<script>console.error('boom'); nosuch();</script></body></html>";
    Rendered b = render(bad, dir);
    ASSERT_EQ(b.exit_code, 0);
    EXPECT_GE(b.console.size(), 2u);
    ASSERT_EQ(b.page_requests.size() >= 1, true);
    EXPECT_NE(b.page_requests[0].find("example.invalid"), std::string::npos);

    auto html = dir / "profile.html";
    auto r = test::run_cli("profile " + test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx") +
                           " --runs 3 --warmup 1 --html " + html.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(html);
    std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(page.find("<script"), std::string::npos);
    // The only URL in the page is the SVG namespace name (an identifier, never fetched).
    std::string rest = std::regex_replace(page, std::regex("http://www\\.w3\\.org/2000/svg"), "");
    EXPECT_EQ(rest.find("http:"), std::string::npos);
    EXPECT_EQ(rest.find("https:"), std::string::npos);
    int bars = 0;
    for (size_t pos = 0; (pos = page.find("class=\"bar\"", pos)) != std::string::npos; ++pos) ++bars;
    ASSERT_GE(bars, 5);

    Rendered g = render(html, dir);
    ASSERT_EQ(g.exit_code, 0);
    EXPECT_TRUE(g.console.empty()) << g.console.front();
    EXPECT_TRUE(g.page_requests.empty()) << g.page_requests.front();
    ASSERT_FALSE(g.shot.empty());
    // Every bar is drawn: down the column just right of where the bars start, count the
    // separate runs of bar colour (one per bar).
    int x = 24 + 300 + 1;  // body margin + label column + 1
    int runs = 0;
    bool in_run = false;
    for (int y = 0; y < g.shot.height; ++y) {
        bool on = is_bar(g.shot.at(x, y));
        if (on && !in_run) ++runs;
        in_run = on;
    }
    EXPECT_EQ(runs, bars) << "bars in the HTML vs bars seen in the screenshot";
}
