// Validation of LeadConfig: the rules are declared with the fields (lead_config.h); this runs
// them for selectors built without a config file.
#include "lead/lead_config.h"

namespace lb {

void LeadConfig::validate() const { config_check(*this, "the LEAD config", nullptr, "lead."); }

}  // namespace lb
