package tf

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// UseProvider makes every resource under scope, made so far, use p instead
// of the stack's default provider: for a scope of another region
// (InRegion), after its constructs are built. That includes the raw
// resources under scope (RawScope). A nil p changes nothing.
func UseProvider(scope constructs.Construct, p cdktf.TerraformProvider) {
	if p == nil {
		return
	}
	for _, c := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if r, ok := c.(cdktf.TerraformResource); ok {
			r.SetProvider(p)
		}
	}
	if w := writers[cdktf.TerraformStack_Of(scope)]; w != nil {
		s := RawScopeOf(scope)
		w.useProvider(s.path, s.Using(p).provider)
	}
}
