// Text renderings of the views' JSON documents (views.h), for people: what
// the plain output and the --watch screen show. Lines carry no ANSI escapes
// and no trailing newline; the screen cuts them to the terminal's width.
#pragma once

#include <string>
#include <vector>

#include "tools/inspect/values.h"

namespace shopsync::inspect {

// REQUIRES: `doc` is a document made by one of the views (its "view" member
// says which); anything else renders as its JSON text.
std::vector<std::string> render_text(const json& doc);

}  // namespace shopsync::inspect
