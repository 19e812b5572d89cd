"""symflow: Monte Carlo gradient estimators from a flow field and a sampling density.

Implements Parmas & Sugiyama, "A unified view of likelihood ratio and
reparameterization gradients": every single-sample estimator
v . grad phi + psi phi of d/dtheta_i E_p[phi] is fixed by a flow u and a
sampling density q (Eq. 19).  symflow derives psi from u, checks the
transport equation and the paper's identities with sound verdicts, and
compiles estimators to numpy.
"""

from . import families as families
from . import plot as plot
from . import proof as proof
from .calculus.heaviside import jump_set as jump_set
from .calculus.integrals import expectation_gradient as expectation_gradient
from .checks import check_boundary as check_boundary
from .checks import check_coupling as check_coupling
from .checks import check_normalized as check_normalized
from .checks import check_transport as check_transport
from .checks import check_unbiased as check_unbiased
from .checks import check_weak_derivative as check_weak_derivative
from .checks import check_weights as check_weights
from .cli.claims import claim as claim
from .core.budget import default_timeout as default_timeout
from .core.budget import run_with_budget as run_with_budget
from .core.budget import set_default_timeout as set_default_timeout
from .core.density import Density as Density
from .core.density import Reparameterization as Reparameterization
from .core.domain import Domain as Domain
from .core.domain import Interval1D as Interval1D
from .core.estimator import Estimator as Estimator
from .core.flow import Flow as Flow
from .core.parsing import parse as parse
from .core.steps import Step as Step
from .core.verdict import Status as Status
from .core.verdict import Verdict as Verdict
from .core.verdict import Witness as Witness
from .core.verdict import combine as combine
from .errors import BackendError as BackendError
from .errors import DensityError as DensityError
from .errors import EstimatorError as EstimatorError
from .errors import FlowError as FlowError
from .errors import ParameterError as ParameterError
from .errors import ParseError as ParseError
from .errors import SymflowError as SymflowError
from .estimators import flows as flows
from .estimators.coupling import Coupling as Coupling
from .estimators.deriver import derive as derive
from .estimators.generalized import check_grp_trace_identity as check_grp_trace_identity
from .estimators.generalized import check_reparam_transport_identity as check_reparam_transport_identity
from .estimators.generalized import grp as grp
from .estimators.generalized import induced_density as induced_density
from .estimators.go import GOTerm as GOTerm
from .estimators.go import discrete_cdf as discrete_cdf
from .estimators.go import go_estimator as go_estimator
from .estimators.go import go_weight as go_weight
from .estimators.mvd import CompiledMVD as CompiledMVD
from .estimators.mvd import MVDEstimator as MVDEstimator
from .estimators.mvd import mvd as mvd
from .estimators.mvd import weak_derivative as weak_derivative
from .estimators.surface import SurfaceTerm as SurfaceTerm
from .estimators.weak_derivative import WeakDerivative as WeakDerivative
from .families.sympy_stats import from_stats as from_stats
from .montecarlo import MCResult as MCResult
from .montecarlo import mc_check as mc_check
from .numeric import CompiledEstimator as CompiledEstimator
from .numeric import SymflowWarning as SymflowWarning
from .numeric import compile_estimator as compile_estimator
from .proof import Proof as Proof
from .proof import ProofStep as ProofStep
from .proof import proof_of as proof_of
from .theory import boxes as boxes
from .theory import toolbox as toolbox
from .theory.comparison import Comparison as Comparison
from .theory.comparison import compare as compare
from .theory.design import Design as Design
from .theory.design import design as design
from .theory.divergence import check_divergence_theorem as check_divergence_theorem
from .theory.divergence import check_stein as check_stein
from .theory.divergence_free import DivergenceFreeBasis as DivergenceFreeBasis
from .theory.divergence_free import OptimizedFlow as OptimizedFlow
from .theory.divergence_free import divergence_free_basis as divergence_free_basis
from .theory.divergence_free import optimize_flow as optimize_flow
from .theory.duality import AugmentedFlow as AugmentedFlow
from .theory.duality import augmented_flow as augmented_flow
from .theory.duality import check_duality as check_duality
from .theory.duality import check_incompressibility_is_transport as check_incompressibility_is_transport
from .theory.duality import check_incompressible as check_incompressible
from .theory.equivalence import check_equivalent as check_equivalent
from .theory.equivalence import check_same_flow as check_same_flow
from .theory.equivalence import classify as classify
from .theory.equivalence import estimator_mean as estimator_mean
from .theory.equivalence import ibp_flow as ibp_flow
from .theory.equivalence import unique_psi as unique_psi
from .theory.variances import VarianceResult as VarianceResult
from .theory.variances import variance as variance
from .zero import decide_zero as decide_zero

# -- added by feature modules (keep each block sorted) ------------------------

# sf.jax / sf.torch: the framework adapters (symflow.frameworks), imported on first access; they
# import JAX / PyTorch only when their functions are called, so `import symflow` needs neither.
_FRAMEWORKS = ("jax", "torch")


def __getattr__(name: str):
    if name in _FRAMEWORKS:
        import importlib

        module = importlib.import_module(f"symflow.frameworks.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'symflow' has no attribute {name!r}")


__all__ = [
    "AugmentedFlow",
    "BackendError",
    "Comparison",
    "CompiledEstimator",
    "CompiledMVD",
    "Coupling",
    "Density",
    "DensityError",
    "Design",
    "DivergenceFreeBasis",
    "Domain",
    "Estimator",
    "EstimatorError",
    "Flow",
    "FlowError",
    "GOTerm",
    "Interval1D",
    "MCResult",
    "MVDEstimator",
    "OptimizedFlow",
    "ParameterError",
    "ParseError",
    "Proof",
    "ProofStep",
    "Reparameterization",
    "Status",
    "Step",
    "SurfaceTerm",
    "SymflowError",
    "SymflowWarning",
    "VarianceResult",
    "Verdict",
    "WeakDerivative",
    "Witness",
    "augmented_flow",
    "boxes",
    "check_boundary",
    "check_coupling",
    "check_divergence_theorem",
    "check_duality",
    "check_equivalent",
    "check_grp_trace_identity",
    "check_incompressibility_is_transport",
    "check_incompressible",
    "check_normalized",
    "check_reparam_transport_identity",
    "check_same_flow",
    "check_stein",
    "check_transport",
    "check_unbiased",
    "check_weak_derivative",
    "check_weights",
    "claim",
    "classify",
    "combine",
    "compare",
    "compile_estimator",
    "decide_zero",
    "default_timeout",
    "derive",
    "design",
    "discrete_cdf",
    "divergence_free_basis",
    "estimator_mean",
    "expectation_gradient",
    "families",
    "flows",
    "from_stats",
    "go_estimator",
    "go_weight",
    "grp",
    "ibp_flow",
    "induced_density",
    "jax",
    "jump_set",
    "mc_check",
    "mvd",
    "optimize_flow",
    "parse",
    "plot",
    "proof",
    "proof_of",
    "run_with_budget",
    "set_default_timeout",
    "toolbox",
    "torch",
    "unique_psi",
    "variance",
    "weak_derivative",
]

__version__ = "0.1.0"
