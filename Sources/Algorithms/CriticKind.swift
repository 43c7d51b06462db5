// rlhub — which network PPO's critic is (`critic: shared | separate`).
//
// shared    a value head on the policy's own final hidden states; the value loss joins the policy
//           loss as vf_coef·L_v and its gradient flows into the trunk (TRL's and OpenRLHF's
//           "value head" models). One trunk: the cheapest critic.
// separate  a copy of the policy (trunk + its own value head) with its own AdamW, trained on L_v
//           alone (verl's and OpenRLHF's critic worker; vf_coef does not apply). About twice the
//           update cost, but its features are free to become predictive of the return.
import Foundation

/// The architecture of PPO's critic.
public enum CriticKind: String, ConfigChoice {
    /// Linear value head on the policy's trunk, trained through `vf_coef·L_v`.
    case shared
    /// Copy of the policy (at the start of RL) with its own value head and optimizer.
    case separate

    public var summary: String {
        switch self {
        case .shared: "value head on the policy's trunk, L = L_pg + vf_coef·L_v (TRL)"
        case .separate: "copy of the policy + value head, own AdamW on L_v (verl, OpenRLHF)"
        }
    }
}
