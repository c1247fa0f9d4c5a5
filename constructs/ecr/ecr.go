// Package ecr makes the container registry in shared-services: repositories
// that scan on push, refuse to overwrite tags, are KMS-encrypted, expire old
// images, and may be pulled from the app accounts only.
//
// It owns the repositories, their policies and the key. Push rights belong
// to the CI roles (constructs/githuboidc). Entry point: New.
package ecr

import (
	"encoding/json"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrlifecyclepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrrepository"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrrepositorypolicy"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// UntaggedDays expires untagged images (failed or superseded pushes).
const UntaggedDays = 14

// Props configures the registry.
type Props struct {
	// Prefix names the key. Required.
	Prefix string
	// Repositories to create. Default: none.
	Repositories []string
	// PullAccounts may pull every image (the app accounts). Default: none.
	PullAccounts []string
	// KeepImages keeps this many images per repository. Required.
	KeepImages int
}

// Registry is the created repositories.
type Registry struct {
	// ARNs by repository name, known at synth time.
	ARNs map[string]string
	Key  *kms.Key
}

// New creates the repositories.
func New(scope constructs.Construct, id string, p Props) *Registry {
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	r := &Registry{ARNs: map[string]string{}}
	var pullers []string
	for _, a := range p.PullAccounts {
		pullers = append(pullers, iam.AccountRoot(env.Partition, a))
	}
	keyStatements := []iam.Statement(nil)
	if len(pullers) > 0 {
		// Pulling an image decrypts its layers through ECR.
		keyStatements = append(keyStatements, iam.Allow("AppAccountsPullThroughECR", []string{"kms:Decrypt", "kms:DescribeKey"}, "*").
			For("AWS", pullers...).When("StringEquals", "kms:ViaService", "ecr."+env.Region+".amazonaws.com"))
	}
	r.Key = kms.New(s, "key", kms.Props{Alias: p.Prefix + "-ecr", Description: "Encrypts container images", Statements: keyStatements})
	lifecycle := lifecyclePolicy(p.KeepImages)
	for _, name := range p.Repositories {
		repo := ecrrepository.NewEcrRepository(s, tf.S(name), &ecrrepository.EcrRepositoryConfig{
			Name:                       tf.S(name),
			ImageTagMutability:         tf.S("IMMUTABLE"),
			ImageScanningConfiguration: &ecrrepository.EcrRepositoryImageScanningConfiguration{ScanOnPush: tf.B(true)},
			EncryptionConfiguration:    &[]*ecrrepository.EcrRepositoryEncryptionConfiguration{{EncryptionType: tf.S("KMS"), KmsKey: r.Key.ARN}},
			Tags:                       tf.Name(name),
		})
		ecrlifecyclepolicy.NewEcrLifecyclePolicy(s, tf.S(name+"-lifecycle"), &ecrlifecyclepolicy.EcrLifecyclePolicyConfig{
			Repository: repo.Name(), Policy: tf.S(lifecycle),
		})
		if len(pullers) > 0 {
			ecrrepositorypolicy.NewEcrRepositoryPolicy(s, tf.S(name+"-policy"), &ecrrepositorypolicy.EcrRepositoryPolicyConfig{
				Repository: repo.Name(),
				Policy: tf.S(iam.Policy(iam.Allow("AppAccountsPull",
					[]string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}).
					For("AWS", pullers...)).JSON()),
			})
		}
		r.ARNs[name] = RepositoryARN(env, name)
	}
	return r
}

// RepositoryARN is the ARN of the repository name in the registry of env's
// account and region, known before the registry exists (services in other
// stacks pull from it).
func RepositoryARN(env awsenv.Env, name string) string {
	return env.ARN("ecr", "repository/"+name)
}

// lifecyclePolicy expires untagged images after UntaggedDays and keeps the
// newest keep images.
func lifecyclePolicy(keep int) string {
	rule := func(prio int, desc, status, count string, n int, unit string) map[string]any {
		sel := map[string]any{"tagStatus": status, "countType": count, "countNumber": n}
		if unit != "" {
			sel["countUnit"] = unit
		}
		return map[string]any{"rulePriority": prio, "description": desc, "selection": sel, "action": map[string]string{"type": "expire"}}
	}
	b, _ := json.Marshal(map[string]any{"rules": []any{
		rule(1, "Expire untagged images", "untagged", "sinceImagePushed", UntaggedDays, "days"),
		rule(2, "Keep the newest images", "any", "imageCountMoreThan", keep, ""),
	}})
	return string(b)
}
