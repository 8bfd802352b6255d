// A small, strict reader of the Prometheus text exposition format 0.0.4, for
// checking what /metrics serves: every line must be a "# HELP", "# TYPE",
// other comment, blank, or a sample "name{label="value",...} value
// [timestamp]" with valid names, escapes and numbers; a family's TYPE comes
// before its samples and only once; a family's samples are not interleaved
// with another's; histogram samples are _bucket (with le, cumulative, ending
// in +Inf equal to _count), _sum and _count.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace shopsync::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromText {
  std::string error;                          // empty when the text is valid
  std::map<std::string, std::string> families;  // name -> type
  std::vector<PromSample> samples;
  // The value of the one sample with that name and exactly those labels; NaN if none.
  double value(const std::string& name, const std::map<std::string, std::string>& labels) const;
};

PromText parse_prometheus_text(const std::string& text);

}  // namespace shopsync::test
