package config

import "strings"

// Registry is the shared-services account's ECR registry,
// "ACCOUNT.dkr.ecr.REGION.amazonaws.com", or "" when no account is of kind
// shared-services. It is the one place its address is built: services'
// images name it, CI pushes to it, and only images in it are pulled with
// the product's grants.
func (c *Config) Registry() string {
	_, shared := c.AccountOfKind(KindShared)
	if shared == nil || shared.ID == "" {
		return ""
	}
	return shared.ID + ".dkr.ecr." + c.Region + ".amazonaws.com"
}

// RegistryRepository returns the repository of an image in the
// shared-services registry ("ACCOUNT.dkr.ecr.REGION.amazonaws.com/web:1.0"
// gives "web"), and false for an image from anywhere else.
func (c *Config) RegistryRepository(image string) (string, bool) {
	registry := c.Registry()
	if registry == "" || !strings.HasPrefix(image, registry+"/") || len(image) == len(registry)+1 {
		return "", false
	}
	return ImageRepository(image), true
}
