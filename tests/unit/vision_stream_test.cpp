// `edgecnn stream` over a small frame folder made by edgecnn_make_frames: every frame is
// accounted for (completed or dropped), the report has its rows, annotated frames are
// written, and bad folders get clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.hpp"
#include "vision/image.hpp"

using namespace edgecnn;

namespace {
const char* kChelsea = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";

int count_files(const std::filesystem::path& dir) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
    return n;
}
}  // namespace

TEST(VisionStream, ClassifiesAFrameFolderAndAccountsForEveryFrame) {
    if (!std::filesystem::exists(kChelsea)) GTEST_FAIL() << kChelsea << " missing: install python3-skimage";
    auto dir = test::temp_dir("vision_stream");
    auto frames = dir / "frames";
    std::string cmd = std::string(EDGECNN_BINARY_DIR) + "/edgecnn_make_frames " + kChelsea + " " + frames.string() +
                      " 24 96x64 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    ASSERT_EQ(count_files(frames), 24);
    vision::Image f0 = vision::load_image((frames / "frame_0000.jpg").string());
    EXPECT_EQ(f0.width, 96);
    EXPECT_EQ(f0.height, 64);

    const std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    auto out = dir / "out";
    auto trace = dir / "trace.csv";
    auto r = test::run_cli("stream " + model + " --frames " + frames.string() + " --fps 60 --quiet --out " + out.string() +
                           " --trace " + trace.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex("frames: (\\d+)  completed: (\\d+)  dropped: (\\d+)  deadline misses: (\\d+)")))
        << r.output;
    const int total = std::stoi(m[1]), completed = std::stoi(m[2]), dropped = std::stoi(m[3]), missed = std::stoi(m[4]);
    EXPECT_EQ(total, 24);
    EXPECT_EQ(completed + dropped, 24);
    EXPECT_GE(missed, dropped);
    EXPECT_GE(completed, 1);
    for (const char* row : {"decode", "preprocess", "inference", "post-process", "end-to-end", "sustained:", "task classify"})
        EXPECT_NE(r.output.find(row), std::string::npos) << row << "\n" << r.output;
    EXPECT_EQ(count_files(out), completed);
    // Any written frame: on a loaded machine the drop policy (latest frame wins) may drop
    // frame 0 itself, so the test must not name it.
    ASSERT_GE(count_files(out), 1);
    const auto first = *std::filesystem::directory_iterator(out);
    vision::Image pic = vision::load_image(first.path().string());
    EXPECT_GE(pic.width, 256);  // the classify picture (enlarged, labelled)

    // The trace: a header and one row per frame; a completed frame's timeline runs forward
    // (release <= decode start <= ... <= post-process end), its end-to-end latency is the
    // decode start to post-process end, and the miss column agrees with the report.
    std::ifstream csv(trace);
    ASSERT_TRUE(csv) << r.output;
    std::string line;
    ASSERT_TRUE(std::getline(csv, line));
    EXPECT_EQ(line.rfind("frame,status,released_ms,decode_start_ms", 0), 0u) << line;
    int rows = 0, done_rows = 0, miss_rows = 0;
    while (std::getline(csv, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
        ASSERT_GE(f.size(), 3u) << line;
        EXPECT_EQ(std::stoi(f[0]), rows) << line;
        ++rows;
        if (f[1] != "done") {
            EXPECT_EQ(f[1], "dropped") << line;
            ++miss_rows;
            continue;
        }
        ASSERT_EQ(f.size(), 18u) << line;
        ++done_rows;
        for (size_t k = 3; k <= 10; ++k) EXPECT_LE(std::stod(f[k - 1]), std::stod(f[k]) + 1e-3) << "column " << k << ": " << line;
        EXPECT_NEAR(std::stod(f[11]), std::stod(f[10]) - std::stod(f[3]), 2e-3) << line;
        miss_rows += std::stoi(f[12]);
    }
    EXPECT_EQ(rows, 24);
    EXPECT_EQ(done_rows, completed);
    EXPECT_EQ(miss_rows, missed);
}

TEST(VisionStream, BadFramesFolder) {
    auto dir = test::temp_dir("vision_stream_bad");
    const std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    auto r = test::run_cli("stream " + model + " --frames " + dir.string());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find(dir.string()), std::string::npos) << r.output;
    r = test::run_cli("stream " + model + " --frames " + (dir / "missing").string());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
    std::filesystem::copy_file(test::source_path("models/fashion_mnist/classes.txt"), dir / "frame_0.jpg");
    r = test::run_cli("stream " + model + " --frames " + dir.string() + " --quiet");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("frame_0.jpg"), std::string::npos) << r.output;
}
