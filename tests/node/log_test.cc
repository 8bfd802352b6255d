// The node's log lines (node/log.h): the text a terminal gets, and the
// journald priority prefixes that make `journalctl -p warning` work when
// stderr is the journal stream ($JOURNAL_STREAM).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "node/log.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kAt = 1764427249123;  // 2025-11-29T14:40:49.123Z

std::string device_inode(const std::filesystem::path& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

BOOST_AUTO_TEST_SUITE(node_log)

BOOST_AUTO_TEST_CASE(a_terminal_line_has_the_time_the_level_and_the_text) {
  BOOST_TEST(log::format_line(log::Level::warn, "disk almost full", kAt, false) ==
             "2025-11-29T14:40:49.123Z warn  disk almost full\n");
}

BOOST_AUTO_TEST_CASE(a_journal_line_starts_with_the_priority_of_its_level) {
  BOOST_TEST(log::format_line(log::Level::error, "x", kAt, true) == "<3>2025-11-29T14:40:49.123Z error x\n");
  BOOST_TEST(log::format_line(log::Level::warn, "x", kAt, true) == "<4>2025-11-29T14:40:49.123Z warn  x\n");
  BOOST_TEST(log::format_line(log::Level::info, "x", kAt, true) == "<6>2025-11-29T14:40:49.123Z info  x\n");
  BOOST_TEST(log::format_line(log::Level::debug, "x", kAt, true) == "<7>2025-11-29T14:40:49.123Z debug x\n");
}

BOOST_AUTO_TEST_CASE(every_line_of_a_multi_line_text_keeps_its_priority_in_the_journal) {
  // The journal makes an entry of each line: a continuation without the
  // prefix would be filed as info and hidden from `journalctl -p warning`.
  BOOST_TEST(log::format_line(log::Level::error, "bad file:\n  line 3\n  line 4", kAt, true) ==
             "<3>2025-11-29T14:40:49.123Z error bad file:\n<3>  line 3\n<3>  line 4\n");
  BOOST_TEST(log::format_line(log::Level::error, "bad file:\n  line 3", kAt, false) ==
             "2025-11-29T14:40:49.123Z error bad file:\n  line 3\n");
}

BOOST_AUTO_TEST_CASE(the_journal_is_recognised_by_the_device_and_inode_systemd_names) {
  TempDir dir;
  const auto stream = dir / "stream";
  const auto other = dir / "other";
  const int fd = ::open(stream.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  BOOST_REQUIRE(fd >= 0);
  ::close(::open(other.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

  BOOST_TEST(log::is_journal_stream(fd, device_inode(stream).c_str()));
  BOOST_TEST(!log::is_journal_stream(fd, device_inode(other).c_str()));  // stderr redirected elsewhere
  BOOST_TEST(!log::is_journal_stream(fd, nullptr));                       // not under systemd
  for (const char* garbage : {"", ":", "12", "12:", ":34", "a:b", "1:2:3", "-1:5", "99999999999999999999999:1"}) {
    BOOST_TEST(!log::is_journal_stream(fd, garbage), garbage);
  }
  ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
