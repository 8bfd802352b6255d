// A real full disk under a real shopsyncd: its data directory is a 4 MiB
// tmpfs, filled by writes through the API. The refused write reads disk_full
// (API, CLI exit 6 and message), the log names the operation, /metrics counts
// it and doctor flags it; once room returns, writes work again and nothing
// written before is lost. Mounting needs root (CI runs the suite as root);
// without it the test fails, it never skips.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"
#include "tests/tools/daemon_cli.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kWait{30'000};
constexpr int kMaxWrites = 200;  // 4 MiB holds far fewer records of 48 KiB

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A small tmpfs mounted on `dir` for the life of the object.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0) {
      const int e = errno;
      BOOST_FAIL("mounting a 4 MiB tmpfs on " << dir_ << " failed: " << std::strerror(e)
                                              << ". This test needs root (CAP_SYS_ADMIN) to make a real full disk; "
                                                 "run it as root, as CI does");
    }
  }
  ~SmallTmpfs() { ::umount2(dir_.c_str(), MNT_DETACH); }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

 private:
  std::filesystem::path dir_;
};

std::string metrics(std::uint16_t port) {
  ChildResult r = run_child({"/usr/bin/python3", "-c",
                             "import sys, urllib.request\n"
                             "print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
                             "http://127.0.0.1:" + std::to_string(port) + "/metrics"},
                            kWait);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  return r.out;
}

Result<api::WriteResult> put_big(NodeProcess& node, int i) {
  api::PutRequest r;
  r.key = {"orders", "O" + std::to_string(i)};
  r.fields["note"] = packed_string(std::string(48 * 1024, static_cast<char>('a' + i % 26)));
  return node.api().put(r);
}

BOOST_AUTO_TEST_SUITE(full_disk_daemon)

BOOST_AUTO_TEST_CASE(a_full_disk_is_refused_logged_counted_and_survived) {
  TempDir tmp;
  const auto data = tmp.path() / "node";  // the mount point is the data directory; its log lies beside it
  SmallTmpfs disk(data);
  const std::uint16_t http_port = free_port();
  NodeProcess::Options o;
  o.data_dir = data;
  o.name = "till";
  o.extra = {"--http", "127.0.0.1:" + std::to_string(http_port)};
  NodeProcess node(o);
  node.start();

  // A filler file takes half the disk, to be deleted when room must return.
  const auto filler = data / "filler";
  {
    std::ofstream f(filler, std::ios::binary);
    const std::string block(64 * 1024, 'f');
    for (int i = 0; i < 32 && f; ++i) f << block;
  }

  int stored = 0;
  Status refusal;
  for (; stored < kMaxWrites; ++stored) {
    auto w = put_big(node, stored);
    if (!w) {
      refusal = w.status();
      break;
    }
  }
  BOOST_TEST_REQUIRE(stored < kMaxWrites, "the disk never filled");
  BOOST_TEST_MESSAGE("records stored before the disk filled: " << stored);
  BOOST_TEST((refusal.code() == Errc::disk_full), refusal.to_string());
  BOOST_TEST(contains(refusal.message(), "the file system of " + data.string() + " is full"), refusal.message());

  // The CLI says so, with the node-error exit status.
  ChildResult put = cli(node, {"put", "orders", "CLI", "--json", R"({"note":")" + std::string(48 * 1024, 'c') + R"("})"});
  BOOST_TEST(put.exit_code == 6);
  BOOST_TEST(contains(put.err, "the file system of " + data.string() + " is full"), put.err);

  // The log names the operation; /metrics counts; doctor flags it.
  BOOST_TEST(wait_until([&] { return node.log_count("error put refused: disk full: writing orders/O") >= 1; }, kWait),
             node.log());
  BOOST_TEST(contains(node.log(), "is full: "), node.log());
  const std::string m = metrics(http_port);
  BOOST_TEST(contains(m, "\nshopsync_disk_full 1\n"), m);
  BOOST_TEST(!contains(m, "\nshopsync_writes_refused_disk_full_total 0\n"), m);
  BOOST_TEST(contains(m, "\nshopsync_writes_refused_disk_full_total "), m);
  ChildResult doctor = cli(node, {"doctor"});
  BOOST_TEST(doctor.exit_code == 8, doctor.out << doctor.err);
  BOOST_TEST(contains(doctor.out + doctor.err, "the disk is full"), doctor.out << doctor.err);

  // Room returns: writes work again, and every record written before reads back.
  std::filesystem::remove(filler);
  auto again = put_big(node, stored);
  BOOST_TEST_REQUIRE(again.is_ok(), again.status().to_string());
  for (int i = 0; i < stored; ++i) {
    auto got = node.api().get({"orders", "O" + std::to_string(i)});
    BOOST_TEST_REQUIRE(got.is_ok(), "orders/O" << i << ": " << got.status().to_string());
  }
  BOOST_TEST(contains(metrics(http_port), "\nshopsync_disk_full 0\n"));
  ChildResult after = cli(node, {"doctor"});
  BOOST_TEST(!contains(after.out + after.err, "the disk is full"), after.out << after.err);
  BOOST_TEST(node.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
