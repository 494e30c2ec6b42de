terraform {
  required_providers {
    graceful = {
      source  = "registry.terraform.io/graceful-shutdown/graceful"
      version = "~> 0.1"
    }
  }
}

provider "graceful" {
  region = "us-east-1" # also: profile, endpoint; credentials from the standard AWS chain
}
