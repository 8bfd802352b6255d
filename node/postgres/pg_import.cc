#include "node/postgres/pg_import.h"

#include "api/json_values.h"
#include "node/postgres/pg_export.h"

namespace shopsync::postgres {
namespace {

const TupleValue* column(const Relation& relation, const Tuple& tuple, std::string_view name) {
  for (std::size_t i = 0; i < relation.columns.size() && i < tuple.size(); ++i) {
    if (relation.columns[i].name == name) return &tuple[i];
  }
  return nullptr;
}

}  // namespace

Result<std::optional<LocalWrite>> row_to_write(const std::string& schema, const Relation& relation,
                                               const RowChange& change) {
  if (relation.schema != schema || relation.name == kPositionTable) return std::optional<LocalWrite>();
  const std::string table = relation.schema + "." + relation.name;
  bool keyed = false;
  for (const auto& c : relation.columns) keyed = keyed || (c.key && c.name == "id");
  if (!keyed) return Status::invalid("table " + table + " has no primary key on \"id\": its rows are not imported");
  const TupleValue* id = column(relation, change.tuple, "id");
  if (!id || id->kind != TupleValue::Kind::text) return Status::invalid("table " + table + ": a row without an id");
  LocalWrite write;
  write.key = RecordKey{relation.name, id->text};
  const std::string row = table + " row '" + id->text + "'";
  if (change.op == RowChange::Op::remove) {
    write.remove = true;
    return std::optional<LocalWrite>(std::move(write));
  }
  const TupleValue* deleted = column(relation, change.tuple, "deleted");
  const TupleValue* fields = column(relation, change.tuple, "fields");
  if (!fields) return Status::invalid("table " + table + " has no \"fields\" column: not a shopsync table");
  if (deleted && deleted->kind == TupleValue::Kind::text && deleted->text == "t") {
    write.remove = true;
    return std::optional<LocalWrite>(std::move(write));
  }
  // An UPDATE that did not touch a large (TOASTed) `fields` value does not
  // carry it: the record's fields did not change.
  if (fields->kind == TupleValue::Kind::unchanged) return std::optional<LocalWrite>();
  if (fields->kind == TupleValue::Kind::null) return Status::invalid(row + ": fields is NULL");
  auto json = json_values::parse_json(fields->text, json_values::kMaxJsonDepth, row + " fields");
  if (!json) return json.status();
  if (!json->is_object()) return Status::invalid(row + ": fields is not a JSON object");
  write.update.replace = true;
  for (const auto& [name, value] : json->items()) {
    write.update.fields[name] = json_values::json_to_packed(value, json_values::BinaryForm::tagged_object);
  }
  return std::optional<LocalWrite>(std::move(write));
}

Result<std::optional<LocalWrite>> typed_row_to_write(const TableMapping& mapping, const Relation& relation,
                                                     const RowChange& change) {
  const std::string table = mapping.qualified();
  const TupleValue* key = column(relation, change.tuple, mapping.key);
  if (!key || key->kind != TupleValue::Kind::text) {
    if (change.op == RowChange::Op::remove) {
      return Status::invalid("table " + table + ": a DELETE without its key column \"" + mapping.key +
                             "\" (make it the replica identity: ALTER TABLE ... REPLICA IDENTITY USING INDEX or FULL)");
    }
    return Status::invalid("table " + table + ": a row without its key column \"" + mapping.key + "\"");
  }
  LocalWrite write;
  write.key = RecordKey{mapping.collection, key->text};
  if (change.op == RowChange::Op::remove) {
    write.remove = true;
    return std::optional<LocalWrite>(std::move(write));
  }
  write.update.replace = false;
  for (const auto& f : mapping.fields) {
    const TupleValue* value = column(relation, change.tuple, f.column);
    if (!value || value->kind == TupleValue::Kind::unchanged) continue;
    if (value->kind == TupleValue::Kind::null) {
      write.update.fields[f.field] = std::nullopt;
      continue;
    }
    auto packed = column_to_packed(f.type, value->text);
    if (!packed) {
      return Status::invalid(table + " row '" + key->text + "' column " + f.column + ": " + packed.status().message());
    }
    write.update.fields[f.field] = std::move(*packed);
  }
  return std::optional<LocalWrite>(std::move(write));
}

}  // namespace shopsync::postgres
