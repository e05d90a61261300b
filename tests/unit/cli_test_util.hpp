// Runs the edgecnn CLI as a user would and captures what it prints and its exit code.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace edgecnn::test {

struct CliResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

inline CliResult run_cli(const std::string& args) {
#ifdef EDGECNN_CLI_RUNNER
    const std::string runner = EDGECNN_CLI_RUNNER;  // cross builds: the emulator (see tests/CMakeLists.txt)
#else
    const std::string runner;
#endif
    std::string cmd = runner + std::string(EDGECNN_BINARY_DIR) + "/edgecnn " + args + " 2>&1";
    CliResult r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

inline std::string source_path(const std::string& rel) { return std::string(EDGECNN_SOURCE_DIR) + "/" + rel; }

// A fresh temporary folder per test.
inline std::filesystem::path temp_dir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("edgecnn_test_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace edgecnn::test
