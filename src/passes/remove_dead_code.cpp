// Removes nodes whose results nobody reads and releases constants nobody reads.
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

int remove_dead_code(Graph& g) {
    std::vector<bool> dead(g.nodes.size(), false);
    std::vector<bool> live(g.values.size(), false);
    for (ValueId o : g.outputs) live[size_t(o)] = true;
    int removed = 0;
    // Reverse topological order: a node is live when one of its outputs is.
    for (size_t n = g.nodes.size(); n-- > 0;) {
        const Node& node = g.nodes[n];
        bool used = false;
        for (ValueId o : node.outputs)
            if (o != kNoValue && live[size_t(o)]) used = true;
        if (!used) {
            dead[n] = true;
            ++removed;
            continue;
        }
        for (ValueId i : node.inputs)
            if (i != kNoValue) live[size_t(i)] = true;
    }
    if (removed) erase_nodes(g, dead);
    // Constants nothing reads: drop their data (the value ids stay valid).
    for (size_t v = 0; v < g.values.size(); ++v)
        if (!live[v] && g.values[v].constant) g.values[v].constant.reset();
    if (removed) verify_and_sort(g);
    return removed;
}

}  // namespace edgecnn
