#include "core/role.h"

#include <string>

#include "core/printable.h"

namespace shopsync {

std::string_view to_string(Role role) { return role == Role::uplink ? "uplink" : "peer"; }

Result<Role> parse_role(std::string_view text) {
  if (text == "peer") return Role::peer;
  if (text == "uplink") return Role::uplink;
  return Status::invalid("role '" + printable(text) + "' is neither 'peer' nor 'uplink'");
}

}  // namespace shopsync
