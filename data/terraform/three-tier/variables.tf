variable "name" {
  type    = string
  default = "myapp"
}

variable "vpc_cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = ["us-east-1a", "us-east-1b"]
}

variable "app_port" {
  type    = number
  default = 3000
}

variable "admin_cidr" {
  type        = string
  description = "where SSH may come from (set in terraform.tfvars)"
}
