#include "node/postgres/pg_mapping.h"

#include <charconv>
#include <cmath>
#include <set>

#include <toml.hpp>

#include "api/json_values.h"
#include "storage/record.h"

namespace shopsync::postgres {
namespace {

constexpr std::string_view kTypeNames[] = {"text", "integer", "numeric", "boolean", "timestamptz", "jsonb"};

std::string line_of(const toml::value& v) {
  const auto loc = v.location();
  return loc.file_name() + ":" + std::to_string(loc.line());
}

Status name_ok(std::string_view what, const std::string& name) {
  if (name.empty() || name.size() > 63) return Status::invalid(std::string(what) + " '" + name + "' must be 1 to 63 characters");
  if (name.find('\0') != std::string::npos) return Status::invalid(std::string(what) + " contains a NUL");
  return Status::ok();
}

Result<MappedField> parse_field(const std::string& collection, const std::string& field, const toml::value& v) {
  const std::string where = line_of(v) + ": field '" + field + "' of " + collection + ": ";
  MappedField out;
  out.field = field;
  out.column = field;
  std::string type;
  if (v.is_string()) {
    type = v.as_string().str;
  } else if (v.is_table()) {
    for (const auto& [k, item] : v.as_table()) {
      if ((k != "column" && k != "type") || !item.is_string()) {
        return Status::invalid(where + "'" + k + "' is not a setting (column = \"NAME\", type = \"TYPE\")");
      }
      (k == "column" ? out.column : type) = item.as_string().str;
    }
  } else {
    return Status::invalid(where + "must be \"TYPE\" or { column = \"NAME\", type = \"TYPE\" }");
  }
  SHOPSYNC_TRY(name_ok("column", out.column).context(where));
  auto parsed = parse_column_type(type);
  if (!parsed) {
    return Status::invalid(where + "type '" + type +
                           "' is not one the mapping can carry (text, integer, numeric, boolean, timestamptz, jsonb)");
  }
  out.type = *parsed;
  return out;
}

Result<TableMapping> parse_collection(const std::string& collection, const toml::value& v, const std::string& schema) {
  const std::string where = line_of(v) + ": " + collection + ": ";
  if (Status s = validate_collection_name(collection); !s) return Status::invalid(where + s.message());
  if (!v.is_table()) return Status::invalid(where + "must be a table (table, key, fields)");
  TableMapping m;
  m.collection = collection;
  const toml::value* fields = nullptr;
  for (const auto& [k, item] : v.as_table()) {
    if (k == "fields" && item.is_table()) {
      fields = &item;
    } else if ((k == "table" || k == "key") && item.is_string()) {
      (k == "table" ? m.table : m.key) = item.as_string().str;
    } else {
      return Status::invalid(line_of(item) + ": " + collection + ": '" + k +
                             "' is not a setting (table = \"SCHEMA.TABLE\", key = \"COLUMN\", [" + collection + ".fields])");
    }
  }
  if (m.table.empty() || m.key.empty() || !fields) return Status::invalid(where + "needs table, key and fields");
  if (auto dot = m.table.find('.'); dot != std::string::npos) {
    m.schema = m.table.substr(0, dot);
    m.table = m.table.substr(dot + 1);
  } else {
    m.schema = schema;
  }
  SHOPSYNC_TRY(name_ok("schema", m.schema).context(where));
  SHOPSYNC_TRY(name_ok("table", m.table).context(where));
  SHOPSYNC_TRY(name_ok("key column", m.key).context(where));
  std::set<std::string> columns = {m.key};
  for (const auto& [field, item] : fields->as_table()) {
    auto f = parse_field(collection, field, item);
    if (!f) return f.status();
    if (!columns.insert(f->column).second) {
      return Status::invalid(line_of(item) + ": " + collection + ": column '" + f->column + "' is mapped twice");
    }
    m.fields.push_back(std::move(*f));
  }
  return m;
}

// "2025-10-18 12:00:00.5+00" -> "2025-10-18T12:00:00.5Z"; other offsets kept ("+05:30").
std::string iso8601(std::string_view text) {
  std::string out(text);
  if (auto space = out.find(' '); space != std::string::npos) out[space] = 'T';
  if (out.size() > 3 && out.compare(out.size() - 3, 3, "+00") == 0) out.replace(out.size() - 3, 3, "Z");
  return out;
}

}  // namespace

std::optional<ColumnType> parse_column_type(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (kTypeNames[i] == name) return static_cast<ColumnType>(i);
  }
  return std::nullopt;
}

std::string_view to_string(ColumnType type) { return kTypeNames[static_cast<std::size_t>(type)]; }

bool column_fits(ColumnType type, std::string_view pg) {
  switch (type) {
    case ColumnType::text:
      return pg == "text" || pg == "character varying" || pg == "character" || pg == "uuid";
    case ColumnType::integer:
      return pg == "smallint" || pg == "integer" || pg == "bigint";
    case ColumnType::numeric:
      return pg == "numeric" || pg == "real" || pg == "double precision" || column_fits(ColumnType::integer, pg);
    case ColumnType::boolean:
      return pg == "boolean";
    case ColumnType::timestamptz:
      return pg == "timestamp with time zone";
    case ColumnType::jsonb:
      return pg == "jsonb" || pg == "json";
  }
  return false;
}

Result<Mapping> Mapping::load(const std::string& path, const std::string& cluster_schema) {
  toml::value root;
  try {
    root = toml::parse(path);
  } catch (const toml::syntax_error& e) {
    return Status::invalid("PostgreSQL mapping " + path + " is not valid TOML:\n" + e.what());
  } catch (const std::exception& e) {
    return Status::invalid("cannot read PostgreSQL mapping " + path + ": " + e.what());
  }
  Mapping mapping;
  try {
    if (!root.is_table()) return Status::invalid("PostgreSQL mapping " + path + " is not a TOML table");
    std::set<std::pair<std::string, std::string>> tables;
    for (const auto& [collection, value] : root.as_table()) {
      auto m = parse_collection(collection, value, cluster_schema);
      if (!m) return m.status();
      if (!tables.emplace(m->schema, m->table).second) {
        return Status::invalid(line_of(value) + ": table " + m->qualified() + " is mapped twice");
      }
      mapping.tables_.push_back(std::move(*m));
    }
  } catch (const std::exception& e) {
    return Status::invalid("PostgreSQL mapping " + path + ": " + e.what());
  }
  return mapping;
}

const TableMapping* Mapping::by_collection(std::string_view collection) const {
  for (const auto& t : tables_) {
    if (t.collection == collection) return &t;
  }
  return nullptr;
}

const TableMapping* Mapping::by_table(std::string_view schema, std::string_view table) const {
  for (const auto& t : tables_) {
    if (t.schema == schema && t.table == table) return &t;
  }
  return nullptr;
}

Result<std::string> column_to_packed(ColumnType type, std::string_view text) {
  using json_values::json;
  auto refuse = [&] { return Status::invalid("'" + std::string(text.substr(0, 40)) + "' is not " + std::string(to_string(type))); };
  switch (type) {
    case ColumnType::text:
      return json_values::json_to_packed(json(std::string(text)), json_values::BinaryForm::tagged_object);
    case ColumnType::timestamptz:
      return json_values::json_to_packed(json(iso8601(text)), json_values::BinaryForm::tagged_object);
    case ColumnType::boolean:
      if (text != "t" && text != "f") return refuse();
      return json_values::json_to_packed(json(text == "t"), json_values::BinaryForm::tagged_object);
    case ColumnType::integer:
    case ColumnType::numeric: {
      // Integral values ("12", "12.00") become integers, others a double.
      std::string_view whole = text.substr(0, text.find('.'));
      const bool integral = whole.size() == text.size() ||
                            text.find_first_not_of('0', whole.size() + 1) == std::string_view::npos;
      std::int64_t i = 0;
      auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), i);
      if (integral && !whole.empty() && ec == std::errc() && end == whole.data() + whole.size()) {
        return json_values::json_to_packed(json(i), json_values::BinaryForm::tagged_object);
      }
      if (type == ColumnType::integer) return refuse();
      double d = 0;
      auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (dec != std::errc() || dend != text.data() + text.size() || !std::isfinite(d)) return refuse();
      return json_values::json_to_packed(json(d), json_values::BinaryForm::tagged_object);
    }
    case ColumnType::jsonb: {
      auto value = json_values::parse_json(text);
      if (!value) return value.status();
      return json_values::json_to_packed(*value, json_values::BinaryForm::tagged_object);
    }
  }
  return refuse();
}

}  // namespace shopsync::postgres
