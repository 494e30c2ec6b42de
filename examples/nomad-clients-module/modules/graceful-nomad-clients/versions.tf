# A reusable module declares the providers it needs, never their configuration: the root module configures
# `provider "graceful"` (region, profile) once, and every instance of this module inherits it.
terraform {
  required_version = ">= 1.5"
  required_providers {
    graceful = {
      source  = "registry.terraform.io/graceful-shutdown/graceful"
      version = ">= 0.1, < 1.0"
    }
  }
}
