#include "tests/gateway/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace shopsync::test {

namespace {

bool is_metric_name(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(const std::string& s) { return is_metric_name(s) && s.find(':') == std::string::npos; }

bool parse_number(const std::string& s, double& out) {
  if (s == "+Inf" || s == "Inf") {
    out = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    out = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    out = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The family a sample belongs to, given the declared types.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx(suffix);
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      const std::string base = name.substr(0, name.size() - sfx.size());
      auto it = families.find(base);
      if (it != families.end() && (it->second == "histogram" || (it->second == "summary" && sfx != "_bucket"))) {
        return base;
      }
    }
  }
  return name;
}

}  // namespace

double PromText::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return NAN;
}

PromText parse_prometheus_text(const std::string& text) {
  PromText out;
  std::istringstream in(text);
  std::string line;
  std::size_t lineno = 0;
  std::string current;  // family of the previous sample
  std::set<std::string> finished;
  std::map<std::string, std::set<std::string>> seen_label_sets;
  auto fail = [&](const std::string& why) {
    out.error = "line " + std::to_string(lineno) + ": " + why + ": '" + line + "'";
    return out;
  };
  if (!text.empty() && text.back() != '\n') {
    out.error = "the text must end with a newline";
    return out;
  }
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream c(line);
      std::string hash, kind, name;
      c >> hash >> kind >> name;
      if (hash != "#") return fail("a comment starts with '# '");
      if (kind == "TYPE") {
        std::string type, extra;
        c >> type >> extra;
        if (!is_metric_name(name)) return fail("bad metric name in TYPE");
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped") {
          return fail("unknown type");
        }
        if (!extra.empty()) return fail("trailing text after TYPE");
        if (out.families.count(name)) return fail("second TYPE for " + name);
        for (const auto& s : out.samples) {
          if (family_of(s.name, out.families) == name || s.name == name) return fail("TYPE after samples of " + name);
        }
        out.families[name] = type;
      } else if (kind == "HELP") {
        if (!is_metric_name(name)) return fail("bad metric name in HELP");
      }
      continue;
    }
    // name{labels} value [timestamp]
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    PromSample sample;
    sample.name = line.substr(0, i);
    if (!is_metric_name(sample.name)) return fail("bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail("label without '='");
        const std::string lname = line.substr(i, eq - i);
        if (!is_label_name(lname)) return fail("bad label name '" + lname + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') return fail("label value must be quoted");
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '\\') {
            if (i >= line.size()) return fail("dangling escape");
            const char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return fail("bad escape in a label value");
            }
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed) return fail("unterminated label value");
        if (sample.labels.count(lname)) return fail("repeated label " + lname);
        sample.labels[lname] = value;
        if (i < line.size() && line[i] == ',') {
          ++i;
        } else if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        } else {
          return fail("expected ',' or '}' after a label");
        }
      }
    }
    if (i >= line.size() || line[i] != ' ') return fail("expected a space before the value");
    ++i;
    const std::string rest = line.substr(i);
    const auto sp = rest.find(' ');
    const std::string value_text = rest.substr(0, sp);
    if (!parse_number(value_text, sample.value)) return fail("bad sample value");
    if (sp != std::string::npos) {
      const std::string ts = rest.substr(sp + 1);
      char* end = nullptr;
      std::strtoll(ts.c_str(), &end, 10);
      if (ts.empty() || end != ts.c_str() + ts.size()) return fail("bad timestamp");
    }
    const std::string family = family_of(sample.name, out.families);
    if (!out.families.count(family)) return fail("sample without a TYPE");
    if (family != current) {
      if (finished.count(family)) return fail("samples of " + family + " are interleaved with another family");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    const std::string& type = out.families[family];
    if (type == "histogram") {
      if (sample.name == family) return fail("a histogram sample needs _bucket, _sum or _count");
      if (sample.name == family + "_bucket" && !sample.labels.count("le")) return fail("a bucket without le");
    }
    if ((type == "counter" || sample.name.ends_with("_count") || sample.name.ends_with("_bucket")) &&
        !(sample.value >= 0)) {
      return fail("a counter must be a non-negative number");
    }
    std::ostringstream key;
    key << sample.name;
    for (const auto& [k, v] : sample.labels) key << '\x1f' << k << '=' << v;
    if (!seen_label_sets[family].insert(key.str()).second) return fail("duplicate sample");
    out.samples.push_back(std::move(sample));
  }
  // Histograms: cumulative buckets ending in +Inf == _count.
  for (const auto& [family, type] : out.families) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> series;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const auto& s : out.samples) {
      if (s.name == family + "_bucket") {
        auto labels = s.labels;
        double le = 0;
        if (!parse_number(labels["le"], le)) {
          out.error = family + ": bad le '" + labels["le"] + "'";
          return out;
        }
        labels.erase("le");
        series[labels].emplace_back(le, s.value);
      } else if (s.name == family + "_count") {
        counts[s.labels] = s.value;
      }
    }
    for (const auto& [labels, buckets] : series) {
      for (std::size_t k = 1; k < buckets.size(); ++k) {
        if (!(buckets[k].first > buckets[k - 1].first) || buckets[k].second < buckets[k - 1].second) {
          out.error = family + ": buckets not increasing and cumulative";
          return out;
        }
      }
      if (buckets.empty() || !std::isinf(buckets.back().first) || !counts.count(labels) ||
          counts[labels] != buckets.back().second) {
        out.error = family + ": the +Inf bucket must equal _count";
        return out;
      }
    }
  }
  return out;
}

}  // namespace shopsync::test
