locals {
  tags = merge({ Project = var.name }, { Managed = "terraform" })
  db_port = 5432
  server_count = 3
}

module "network" {
  source   = "./modules/network"
  name     = var.name
  vpc_cidr = var.vpc_cidr
  azs      = var.azs
  app_port = var.app_port
  db_port  = local.db_port
}

resource "aws_security_group" "alb" {
  name        = "alb-public-sg"
  description = "the load balancer, open to the internet on 80 and 443"
  vpc_id      = module.network.vpc_id

  dynamic "ingress" {
    for_each = toset([80, 443])
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
  tags = local.tags
}

resource "aws_security_group" "web" {
  name        = "web-sg"
  description = "the API servers"
  vpc_id      = module.network.vpc_id
  tags        = local.tags
}

resource "aws_security_group" "db" {
  name        = "database-sg"
  description = "RDS PostgreSQL"
  vpc_id      = module.network.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_web" {
  security_group_id            = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.web.id
}

resource "aws_vpc_security_group_ingress_rule" "web_from_alb" {
  security_group_id            = aws_security_group.web.id
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_security_group_rule" "web_ssh" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  protocol          = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_blocks       = [var.admin_cidr]
}

resource "aws_security_group_rule" "web_to_db" {
  type                     = "egress"
  security_group_id        = aws_security_group.web.id
  protocol                 = "tcp"
  from_port                = local.db_port
  to_port                  = local.db_port
  source_security_group_id = aws_security_group.db.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_web" {
  security_group_id            = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.web.id
}

resource "aws_instance" "api" {
  count                  = local.server_count
  ami                    = "ami-0123456789abcdef0"
  instance_type          = "t3.small"
  subnet_id              = element(module.network.app_subnet_ids, count.index)
  vpc_security_group_ids = [aws_security_group.web.id]
  private_ip             = cidrhost(element(module.network.app_subnet_cidrs, count.index), 45 + count.index)
  tags                   = merge(local.tags, { Name = format("node-api-%d", count.index + 1) })
}

resource "aws_lb" "api" {
  name               = "${var.name}-alb"
  load_balancer_type = "application"
  internal           = false
  subnets            = module.network.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "web" {
  name     = "web-servers-tg"
  port     = var.app_port
  protocol = "HTTP"
  vpc_id   = module.network.vpc_id
  health_check {
    path                = "/health"
    interval            = 30
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_target_group_attachment" "web" {
  count            = length(aws_instance.api)
  target_group_arn = aws_lb_target_group.web.arn
  target_id        = aws_instance.api[count.index].id
  port             = var.app_port
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.api.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.api.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "${var.name}-db"
  subnet_ids = module.network.db_subnet_ids
}

resource "aws_db_instance" "main" {
  identifier             = "mydb-prod"
  engine                 = "postgres"
  engine_version         = "15"
  instance_class         = "db.t3.medium"
  allocated_storage      = 20
  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.db.name
  vpc_security_group_ids = [aws_security_group.db.id]
  username               = "app"
  password               = "change-me"
}

resource "aws_route53_zone" "public" {
  name = "myapp.com"
}

resource "aws_route53_record" "api" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "api.myapp.com"
  type    = "A"
  alias {
    name                   = aws_lb.api.dns_name
    zone_id                = aws_lb.api.zone_id
    evaluate_target_health = true
  }
}
