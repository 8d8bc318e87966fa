// The replay control: trains a given list of pool samples (another run's picks, or a hand-made list)
// with the static protocol (one round of every listed sample for the configured epochs, shuffled
// per pass, full batches). "LEAD's picks, trained like random's" separates what a selector picks
// from how its in-loop schedule trains them.
//
// The list (selection.fixed_ids_from) is one of:
//   - a run record (a JSON object): its selected.uids, in selection order;
//   - a JSON array of uid strings;
//   - a text file of uids, one per line (blank lines are skipped, surrounding spaces trimmed).
// An unknown uid, a repeated uid or an empty list is an InputError naming the file and the entry.
#pragma once

#include "baselines/static_selectors.h"

#include <string>
#include <vector>

namespace lb {

// Reads the list and maps its uids to pool ids (in the list's order).
std::vector<SampleId> load_fixed_ids(const std::string& path, const Pool& pool);

class FixedSelector : public StaticSelector {
 public:
  FixedSelector(std::vector<SampleId> ids, std::string source) : ids_(std::move(ids)), source_(std::move(source)) {}
  std::string name() const override { return "fixed"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;

 private:
  std::vector<SampleId> ids_;
  std::string source_;
};

}  // namespace lb
