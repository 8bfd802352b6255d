// The shopsync CLI as a user runs it: a real process against a real API
// server (shopsync_api_test_host: ApiServer + RecordService over LMDB),
// checking what it prints, in text and in --json, and its exit status.
#include <cctype>
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kWait{30'000};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Host {
  TempDir dir{"shopsync-cli"};
  std::unique_ptr<Child> process;
  std::string endpoint;

  explicit Host(std::vector<std::string> extra = {}, std::string api = "tcp://127.0.0.1:0") {
    std::vector<std::string> argv = {SHOPSYNC_API_HOST, "--data", dir.path().string(), "--api", api};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Child>(argv);
    const std::string line = process->wait_for_line(false, "ready ", kWait);
    if (line.empty()) BOOST_FAIL("the API host did not start: " << process->finish(kWait).err);
    endpoint = line.substr(6);
  }
  ~Host() {
    auto r = process->stop(kWait);
    BOOST_TEST(r.exit_code == 0);
  }

  ChildResult cli(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {SHOPSYNC_CLI, "--api", endpoint};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildResult r = run_child(argv, kWait, input);
    BOOST_TEST_MESSAGE("shopsync " << [&] {
      std::string s;
      for (const auto& a : args) s += a + " ";
      return s;
    }() << "-> " << r.exit_code << "\n" << r.out << r.err);
    BOOST_TEST(!r.timed_out);
    return r;
  }

  json cli_json(const std::vector<std::string>& args, int expected_exit = 0) {
    std::vector<std::string> all{"--json"};
    all.insert(all.end(), args.begin(), args.end());
    ChildResult r = cli(std::move(all));
    BOOST_TEST(r.exit_code == expected_exit);
    try {
      return json::parse(r.out);
    } catch (const std::exception& e) {
      BOOST_FAIL("not JSON: " << r.out);
      return {};
    }
  }
};

BOOST_AUTO_TEST_SUITE(shopsync_cli)

BOOST_AUTO_TEST_CASE(put_get_ls_rm_with_text_and_json_output) {
  Host host;
  auto put = host.cli({"put", "customers", "C1", "name=Ada Lovelace", "age:=36", "tags:=[\"vip\"]"});
  BOOST_TEST(put.exit_code == 0);
  BOOST_TEST(contains(put.out, "customers/C1 written as "));

  auto get = host.cli({"get", "customers", "C1"});
  BOOST_TEST(get.exit_code == 0);
  BOOST_TEST(contains(get.out, "customers/C1"));
  BOOST_TEST(contains(get.out, "name  \"Ada Lovelace\""));
  BOOST_TEST(contains(get.out, "age   36"));
  BOOST_TEST(contains(get.out, "tags  [\"vip\"]"));

  // A patch keeps the other fields; --unset removes one.
  BOOST_TEST(host.cli({"put", "customers", "C1", "--patch", "city=Lyon", "--unset", "tags"}).exit_code == 0);
  json record = host.cli_json({"get", "customers", "C1"});
  BOOST_TEST(record["fields"] == json::parse(R"({"name":"Ada Lovelace","age":36,"city":"Lyon"})"));
  BOOST_TEST(record["conflicted"] == false);
  // An HLC reading is beyond 2^53: a string, which no JSON reader rounds.
  BOOST_TEST(record["hlc"].is_string());
  // "<writer id, 16 hex>:<counter>": the host's writer id is drawn at its start.
  BOOST_TEST(record["dot"].get<std::string>().find(':') == 16u);

  // A whole record as JSON, binary values as {"$binary": base64}, from stdin.
  auto from_stdin = host.cli({"put", "customers", "C2", "--json", "-"},
                             R"({"name":"Bob","blob":{"$binary":"AAEC/w=="},"n":null,"x":1.5})");
  BOOST_TEST(from_stdin.exit_code == 0);
  record = host.cli_json({"get", "customers", "C2"});
  BOOST_TEST(record["fields"] == json::parse(R"({"name":"Bob","blob":{"$binary":"AAEC/w=="},"n":null,"x":1.5})"));

  auto ls = host.cli({"ls", "customers", "--limit", "1"});
  BOOST_TEST(ls.exit_code == 0);
  BOOST_TEST(contains(ls.out, "ID"));
  BOOST_TEST(contains(ls.out, "C1"));
  BOOST_TEST(!contains(ls.out, "C2 "));
  BOOST_TEST(contains(ls.out, "--after C1"));
  json all = host.cli_json({"ls", "customers"});
  BOOST_TEST(all["records"].size() == 2u);
  BOOST_TEST(all["next_after"].is_null());
  json after = host.cli_json({"ls", "customers", "--after", "C1"});
  BOOST_REQUIRE(after["records"].size() == 1u);
  BOOST_TEST(after["records"][0]["id"] == "C2");
  auto collections = host.cli({"ls"});
  BOOST_TEST(collections.exit_code == 0);
  BOOST_TEST(contains(collections.out, "customers"));
  // A collection the node never held (a typo) is not an empty one.
  auto typo = host.cli({"ls", "custmers"});
  BOOST_TEST(typo.exit_code == 1);
  BOOST_TEST(contains(typo.err, "no collection 'custmers' on this node (it holds customers)"));

  BOOST_TEST(host.cli({"rm", "customers", "C1"}).exit_code == 0);
  auto gone = host.cli({"get", "customers", "C1"});
  BOOST_TEST(gone.exit_code == 1);
  BOOST_TEST(contains(gone.err, "customers/C1"));
  BOOST_TEST(host.cli({"rm", "customers", "C1"}).exit_code == 1);
}

BOOST_AUTO_TEST_CASE(exit_codes_tell_usage_rejection_and_unreachable_apart) {
  Host host;
  BOOST_TEST(host.cli({}).exit_code == 2);
  BOOST_TEST(host.cli({"frobnicate"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers", "C1", "novalue"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers", "C1", "n:=not json"}).exit_code == 2);
  BOOST_TEST(host.cli({"resolve", "customers", "C1"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers", "C1", "--json", "[1,2]"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers", "C1", "--json", "{broken"}).exit_code == 2);
  BOOST_TEST(host.cli({"put", "customers", "C1", "--json", "@/nonexistent/file.json"}).exit_code == 2);
  BOOST_TEST(host.cli({"get", "customers", "C1", "--bogus"}).exit_code == 2);
  // The node refuses what breaks the data model.
  auto bad = host.cli({"put", "Bad-Name", "C1", "a=1"});
  BOOST_TEST(bad.exit_code == 4);
  BOOST_TEST(contains(bad.err, "Bad-Name"));
  BOOST_TEST(host.cli({"put", "customers", std::string(300, 'x'), "a=1"}).exit_code == 4);
  // A record far over the limit is refused as such, not sent to a server that
  // would drop the connection (which read as "no answer": exit 3).
  auto huge = host.cli({"put", "customers", "C1", "--json", "-"}, R"({"note":")" + std::string(9 << 20, 'x') + R"("})");
  BOOST_TEST(huge.exit_code == 4);
  BOOST_TEST(contains(huge.err, "over the API's limit"));
  // Nobody at that address.
  auto absent = run_child({SHOPSYNC_CLI, "--api", "tcp://127.0.0.1:1", "--timeout", "0.3", "status"}, kWait);
  BOOST_TEST(absent.exit_code == 3);
  BOOST_TEST(contains(absent.err, "connecting to tcp://127.0.0.1:1: refused: is shopsyncd running?"));
  BOOST_TEST(run_child({SHOPSYNC_CLI, "--help"}, kWait).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(every_program_says_its_version) {
  const std::pair<const char*, const char*> programs[] = {
      {SHOPSYNC_CLI, "shopsync"}, {SHOPSYNCD_PATH, "shopsyncd"}, {SHOPSYNC_INSPECT_PATH, "shopsync-inspect"}};
  for (const auto& [path, name] : programs) {
    auto r = run_child({path, "--version"}, kWait);
    BOOST_TEST(r.exit_code == 0, name);
    BOOST_TEST(r.out == std::string(name) + " " + PROJECT_VERSION_TEXT + "\n");
  }
}

// `--data /etc` by mistake: refused before anything is written there.
BOOST_AUTO_TEST_CASE(a_data_dir_holding_other_files_is_refused_untouched) {
  TempDir dir("shopsync-not-ours");
  { std::ofstream(dir / "notes.txt") << "not shopsync's\n"; }
  auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
    return names;
  };
  auto start = run_child({SHOPSYNCD_PATH, "--data", dir.path().string(), "--no-mdns", "--listen", "127.0.0.1:47461",
                          "--api", "127.0.0.1:47462"},
                         kWait);
  BOOST_TEST(start.exit_code == 2);  // a configuration error: not to be restarted
  BOOST_TEST(contains(start.err, "holds other files ('notes.txt') and no shopsync data"), start.err);
  auto key = run_child({SHOPSYNCD_PATH, "--data", dir.path().string(), "--print-key"}, kWait);
  BOOST_TEST(key.exit_code != 0);
  BOOST_TEST((listing() == std::vector<std::string>{"notes.txt"}));
}

BOOST_AUTO_TEST_CASE(conflicts_are_shown_and_resolved) {
  Host host({"--manual", "notes", "--seed-conflict", "notes/N1", "--seed-conflict", "notes/N2"});
  auto get = host.cli({"get", "notes", "N1"});
  BOOST_TEST(get.exit_code == 5);
  BOOST_TEST(contains(get.out, "CONFLICT: 2 concurrent versions"));

  json page = host.cli_json({"conflicts"}, 5);
  BOOST_REQUIRE(page["open"].size() == 2u);
  BOOST_TEST(page["open"][0]["strategy"] == "manual");
  BOOST_TEST(page["log"].size() >= 2u);
  std::string theirs;
  for (const auto& s : page["open"][0]["siblings"]) {
    if (s["fields"]["text"] == "written on node 2") theirs = s["dot"];
  }
  BOOST_REQUIRE(!theirs.empty());
  auto text = host.cli({"conflicts", "notes"});
  BOOST_TEST(text.exit_code == 5);  // some are open: a script can tell
  BOOST_TEST(contains(text.out, "2 open conflicts"));
  BOOST_TEST(contains(text.out, theirs));

  BOOST_TEST(host.cli({"resolve", "notes", "N1", "--pick", theirs}).exit_code == 0);
  json n1 = host.cli_json({"get", "notes", "N1"});
  BOOST_TEST(n1["fields"]["text"] == "written on node 2");
  BOOST_TEST(n1["conflicted"] == false);
  BOOST_TEST(host.cli({"resolve", "notes", "N2", "--json", R"({"text":"merged by hand"})"}).exit_code == 0);
  json n2 = host.cli_json({"get", "notes", "N2"});
  BOOST_TEST(n2["fields"]["text"] == "merged by hand");
  auto none = host.cli({"conflicts"});
  BOOST_TEST(none.exit_code == 0);
  BOOST_TEST(contains(none.out, "No open conflicts."));
  BOOST_TEST(contains(none.out, "Conflict log:"));
  // A dot that is not a sibling.
  BOOST_TEST(host.cli({"resolve", "notes", "N1", "--pick", "00000000000000ff:1"}).exit_code != 0);
}

BOOST_AUTO_TEST_CASE(watch_prints_writes_as_they_happen) {
  Host host;
  BOOST_TEST(host.cli({"put", "customers", "OLD", "a=1"}).exit_code == 0);
  Child watch({SHOPSYNC_CLI, "--api", host.endpoint, "--json", "watch", "customers", "--count", "2"});
  BOOST_REQUIRE(!watch.wait_for_line(true, "watching customers", kWait).empty());
  BOOST_TEST(host.cli({"put", "orders", "O1", "a=1"}).exit_code == 0);  // another collection: not shown
  BOOST_TEST(host.cli({"put", "customers", "NEW", "a=1"}).exit_code == 0);
  BOOST_TEST(host.cli({"rm", "customers", "NEW"}).exit_code == 0);
  ChildResult r = watch.finish(kWait);
  BOOST_TEST(r.exit_code == 0);
  std::vector<json> lines;
  std::size_t pos = 0, eol;
  while ((eol = r.out.find('\n', pos)) != std::string::npos) {
    lines.push_back(json::parse(r.out.substr(pos, eol - pos)));
    pos = eol + 1;
  }
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0]["id"] == "NEW");
  BOOST_TEST(lines[0]["deleted"] == false);
  BOOST_TEST(lines[1]["id"] == "NEW");
  BOOST_TEST(lines[1]["deleted"] == true);
  BOOST_TEST(!lines[1]["cursor"].get<std::string>().empty());
  // Resuming from the cursor shows nothing new; from the start shows everything.
  Child resume({SHOPSYNC_CLI, "--api", host.endpoint, "watch", "--from-start", "--count", "2"});
  ChildResult all = resume.finish(kWait);
  BOOST_TEST(all.exit_code == 0);
  BOOST_TEST(contains(all.out, "customers/OLD"));
  BOOST_TEST(contains(all.out, "orders/O1"));
}

// Each line's cursor resumes right after that line: a watcher that stopped
// in the middle of a page skips nothing.
BOOST_AUTO_TEST_CASE(watch_resumes_after_the_line_whose_cursor_it_kept) {
  Host host;
  for (const char* id : {"C1", "C2", "C3", "C4", "C5"}) BOOST_TEST(host.cli({"put", "customers", id, "a=1"}).exit_code == 0);
  auto lines_of = [](const std::string& out) {
    std::vector<json> lines;
    std::size_t pos = 0, eol;
    while ((eol = out.find('\n', pos)) != std::string::npos) {
      lines.push_back(json::parse(out.substr(pos, eol - pos)));
      pos = eol + 1;
    }
    return lines;
  };
  auto all = lines_of(host.cli({"--json", "watch", "--from-start", "--count", "5"}).out);
  BOOST_REQUIRE(all.size() == 5u);  // one page
  auto rest = host.cli({"--json", "--timeout", "2", "watch", "--since", all[1]["cursor"], "--count", "3"});
  BOOST_REQUIRE(rest.exit_code == 0);
  auto resumed = lines_of(rest.out);
  BOOST_REQUIRE(resumed.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(resumed[i]["id"] == all[i + 2]["id"]);
}

BOOST_AUTO_TEST_CASE(status_peers_key_and_trust) {
  Host host;
  BOOST_TEST(host.cli({"put", "customers", "C1", "a=1"}).exit_code == 0);
  BOOST_TEST(host.cli({"put", "orders", "O1", "a=1"}).exit_code == 0);
  auto status = host.cli({"status"});
  BOOST_TEST(status.exit_code == 0);
  BOOST_TEST(contains(status.out, "0000000000000001  (test-node)"));
  BOOST_TEST(contains(status.out, "2  (customers 1, orders 1)"));
  json s = host.cli_json({"status"});
  BOOST_TEST(s["node_id"] == "0000000000000001");
  BOOST_REQUIRE(s["knowledge"].size() == 1u);  // one origin: this host's writer id
  BOOST_TEST(s["knowledge"].begin().value() == 2);
  BOOST_TEST(s["counter"] == 2);
  BOOST_TEST(s["collections"].size() == 2u);
  auto peers = host.cli({"peers"});
  BOOST_TEST(peers.exit_code == 0);
  BOOST_TEST(contains(peers.out, "No peers known."));
  BOOST_TEST(host.cli_json({"peers"})["peers"].empty());

  auto key = host.cli({"key"});
  BOOST_TEST(key.exit_code == 0);
  // The spoken form of the node's Z85 key "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7".
  BOOST_TEST(key.out == std::string("akyb-m979-694s-d4rp-zdgq-s1sb-p30x-3zrm-g022-fhcm-sfxc-y6y2-ts93-7qpq\n"));
  BOOST_TEST(host.cli_json({"key"})["key"] == "akyb-m979-694s-d4rp-zdgq-s1sb-p30x-3zrm-g022-fhcm-sfxc-y6y2-ts93-7qpq");
  const std::string other = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
  const std::string other_spoken = "qe44-e7b5-w9js-pc65-b99j-3knv-banj-pw53-k1j5-r9pw-masf-sd1z-rmcd-6914";
  BOOST_TEST(host.cli({"trust", "add", other, "--name", "till 2"}).exit_code == 0);
  auto ls = host.cli({"trust", "ls"});
  BOOST_TEST(contains(ls.out, other_spoken));
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"][0]["key"] == other_spoken);
  BOOST_TEST(contains(ls.out, "till 2"));
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"].size() == 1u);
  BOOST_TEST(host.cli({"trust", "rm", other}).exit_code == 0);
  BOOST_TEST(host.cli({"trust", "rm", other}).exit_code == 1);
  BOOST_TEST(host.cli({"trust", "add", "too-short"}).exit_code == 4);
}

// A Z85 key that starts with '-' (one in 85 does), and its spoken form.
constexpr const char* kDashKey = "-y8s1JqYh!4N]z&wT7pF0k@Xm%cR.oE/@{H8]yf7";
constexpr const char* kDashKeySpoken = "rn22-w7mc-zpd7-83j5-wdk6-b569-200c-8v1t-zyce-0jbz-0hcz-g6y2-ts9e-br7a";

BOOST_AUTO_TEST_CASE(a_key_starting_with_a_dash_is_trusted_after_double_dash) {
  Host host;
  auto refused = host.cli({"trust", "add", kDashKey});
  BOOST_TEST(refused.exit_code == 2);  // an option as far as any parser can tell...
  BOOST_TEST(contains(refused.err, "goes after --"), refused.err);  // ...and the error says what to do

  auto added = host.cli({"trust", "add", "--name", "till 9", "--", kDashKey});
  BOOST_TEST(added.exit_code == 0, added.err);
  BOOST_TEST(added.out == "trusted " + std::string(kDashKeySpoken) + "\n");
  json ls = host.cli_json({"trust", "ls"});
  BOOST_REQUIRE(ls["keys"].size() == 1u);
  BOOST_TEST(ls["keys"][0]["key"] == kDashKeySpoken);
  BOOST_TEST(ls["keys"][0]["name"] == "till 9");
  // "--" before the command works too.
  BOOST_TEST(host.cli({"--", "trust", "rm", kDashKey}).exit_code == 0);
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"].empty());
}

BOOST_AUTO_TEST_CASE(the_spoken_form_is_accepted_in_any_case_and_grouping_and_typos_are_refused) {
  Host host;
  const std::string spoken = kDashKeySpoken;
  BOOST_TEST(host.cli({"trust", "add", spoken}).exit_code == 0);
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"][0]["key"] == spoken);
  // Upper case without dashes names the same key: removing it empties the list.
  std::string shouted;
  for (char c : spoken) {
    if (c != '-') shouted.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  auto rm = host.cli({"trust", "rm", shouted});
  BOOST_TEST(rm.exit_code == 0, rm.err);
  BOOST_TEST(rm.out == "no longer trusted: " + spoken + "\n");
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"].empty());
  // One symbol misheard over the phone: refused, nothing trusted.
  std::string typo = spoken;
  typo[6] = typo[6] == 'q' ? 'r' : 'q';
  auto wrong = host.cli({"trust", "add", typo});
  BOOST_TEST(wrong.exit_code == 4);
  BOOST_TEST(contains(wrong.err, "mistyped"), wrong.err);
  BOOST_TEST(host.cli_json({"trust", "ls"})["keys"].empty());
}

BOOST_AUTO_TEST_CASE(a_record_id_starting_with_a_dash_goes_after_double_dash) {
  Host host;
  BOOST_TEST(host.cli({"put", "customers", "--", "-C1", "name=dash"}).exit_code == 0);
  auto got = host.cli({"--json", "get", "--", "customers", "-C1"});
  BOOST_TEST(got.exit_code == 0, got.err);
  BOOST_TEST(json::parse(got.out)["id"] == "-C1");
}

BOOST_AUTO_TEST_CASE(an_ipc_socket_path_works) {
  TempDir sock_dir{"shopsync-cli-ipc"};
  const std::string path = (sock_dir / "api.sock").string();
  Host host({}, "ipc://" + path);
  auto r = run_child({SHOPSYNC_CLI, "--api", path, "put", "customers", "C1", "a=1"}, kWait);
  BOOST_TEST(r.exit_code == 0);
  r = run_child({SHOPSYNC_CLI, "--api", "ipc://" + path, "get", "customers", "C1"}, kWait);
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
