//! What the audit trail's stored keys mean to people: every action and object type an entry can
//! carry, in Chinese. The keys stay in the database and the API (they are what filters and
//! integrations match on); pages and exports show these names beside them.

/// Every action key the system records, with its name.
pub const ACTIONS: &[(&str, &str)] = &[
    ("login.success", "登录"),
    ("login.failure", "登录失败"),
    ("login.mfa_success", "双因素认证通过"),
    ("login.mfa_failure", "双因素认证失败"),
    ("login.refused_locked", "锁定期间拒绝登录"),
    ("logout", "退出登录"),
    ("session.expired", "会话过期"),
    ("account.locked", "账户锁定"),
    ("account.mfa_enabled", "启用双因素认证"),
    ("account.password_changed", "修改密码"),
    ("user.create", "创建账户"),
    ("user.update", "修改账户"),
    ("user.activate", "激活账户"),
    ("user.unlock", "解锁账户"),
    ("user.reset_password", "重置密码"),
    ("user.reset_mfa", "重置双因素认证"),
    ("api_token.create", "创建接口令牌"),
    ("api_token.revoke", "吊销接口令牌"),
    ("api_token.use", "使用接口令牌"),
    ("org.create", "创建单位"),
    ("org.update", "修改单位"),
    ("expert.create", "登记专家"),
    ("expert.update", "修改专家信息"),
    ("cluster.create", "登记集群"),
    ("cluster.update", "修改集群信息"),
    ("cluster.member_add", "添加成员单位"),
    ("cluster.member_remove", "移除成员单位"),
    ("cluster.members_import", "导入成员单位"),
    ("attachment.upload", "上传附件"),
    ("competition.create", "发布竞赛通知"),
    ("competition.update", "修改竞赛通知"),
    ("competition.close", "关闭竞赛通知"),
    ("application.create", "创建申报"),
    ("application.save", "保存申报"),
    ("application.submit", "提交申报"),
    ("application.return", "退回修改"),
    ("application.county_opinion", "提出县级意见"),
    ("application.reject", "初审不通过"),
    ("application.recommend", "推荐至省工信厅"),
    ("application.field_check", "记录实地抽查"),
    ("application.ministry_result", "登记部里认定结果"),
    ("application.ministry_term", "登记部里复核结果或撤销认定"),
    ("application.extend", "单独延长申报或初审期限"),
    ("round.open", "开设评审轮次"),
    ("round.panel", "组建评审组"),
    ("round.auto_assign", "自动分配专家"),
    ("round.assign", "分配专家"),
    ("round.assign_override", "记录理由后分配有利益冲突的专家"),
    ("round.unassign", "撤回专家分配"),
    ("round.open_scoring", "开始评分"),
    ("round.extend_window", "延长评分期限"),
    ("round.recuse", "专家申请回避"),
    ("round.propose", "确定拟定名单"),
    ("round.export_list", "导出名单"),
    ("round.confirm", "确认名单"),
    ("score.save", "保存评分"),
    ("score.submit", "提交评分"),
    ("score.export", "导出评分"),
    ("ranking.export", "导出排名"),
    ("score.reopen", "退回评分"),
    ("score.defence", "录入答辩成绩"),
    ("report.create", "起草发展情况报告"),
    ("report.save", "保存发展情况报告"),
    ("report.submit", "提交发展情况报告"),
    ("report.forward", "市州签署意见并转报"),
    ("report.return", "退回发展情况报告"),
    ("report.accept", "接收发展情况报告"),
    ("report.alert", "发送报告提醒或逾期通知"),
    ("notice.publish", "发布公示"),
    ("objection.file", "提出异议"),
    ("objection.register", "登记异议"),
    ("objection.uphold", "异议成立"),
    ("objection.dismiss", "异议不成立"),
    ("designation.create", "认定"),
    ("city_designation.create", "市级认定"),
    ("city_designation.revoke", "撤销市级称号"),
    ("city_designation.export", "导出市级称号清单"),
    ("city_certificate.download", "下载市级称号证书"),
    ("designation.revoke", "撤销认定"),
    ("revocation.open", "立案（撤销程序）"),
    ("revocation.notify", "送达撤销告知书"),
    ("revocation.respond", "陈述申辩"),
    ("revocation.decide", "作出撤销程序决定"),
    ("revocation.download", "下载撤销决定书"),
    ("certificate.download", "下载证书"),
    ("calendar.import", "导入工作日历"),
    ("policy.install", "安装政策规则文件"),
    ("audit.export", "导出审计日志"),
    ("audit.verify", "校验审计链"),
    ("system.seal_totp_secrets", "加密存储双因素密钥"),
    ("demo.seed", "写入演示数据"),
    ("demo.clock", "调整演示时钟"),
    ("funding.create", "登记资金安排"),
    ("funding.step", "变更资金拨付状态"),
    ("funding.reward_set", "设定年度奖励金额"),
    ("funding.export", "导出资金台账"),
    ("import.commit", "确认Excel导入"),
    ("change_request.file", "提出变更申请"),
    ("change_request.city_opinion", "出具变更申请市州意见"),
    ("change_request.approve", "批准变更申请并换发证书"),
    ("change_request.refuse", "不予批准变更申请"),
    ("nomination.create", "推荐申报国家级先进制造业集群"),
    ("nomination.outcome", "记录国家级集群评选结果"),
    ("nomination.dossier", "导出国家级集群推荐材料"),
    ("monitoring.note", "对监测提示添加备注"),
    ("dashboard.export", "导出数据看板"),
    ("final_materials.save", "保存决赛申报材料"),
    ("final_materials.submit", "提交决赛申报材料"),
    ("yearly_announcement.publish", "发布年度集中公告"),
    ("plaque.record", "登记授牌"),
    ("recheck.call", "发布复核通知"),
    ("recheck.save", "保存复核材料"),
    ("recheck.submit", "提交复核材料"),
    ("recheck.city_opinion", "出具复核市州意见"),
    ("recheck.review", "记录复核专家组评审结果"),
    ("recheck.notice", "发布复核结果公示"),
    ("recheck.pass", "确认复核通过"),
    ("recheck.fail", "确认未通过复核"),
    ("recheck.lapse", "认定未按期提交复核材料"),
    ("recheck_objection.file", "对复核结果提出异议"),
    ("recheck_objection.register", "登记复核结果异议"),
    ("recheck_objection.uphold", "复核结果异议成立"),
    ("recheck_objection.dismiss", "复核结果异议不成立"),
];

/// Every object type an entry can name, with its name.
pub const OBJECT_TYPES: &[(&str, &str)] = &[
    ("user", "账户"),
    ("api_token", "接口令牌"),
    ("organisation", "单位"),
    ("expert", "专家"),
    ("cluster", "集群"),
    ("attachment", "附件"),
    ("competition", "竞赛通知"),
    ("application", "申报"),
    ("round", "评审轮次"),
    ("assignment", "评审任务"),
    ("score_sheet", "评分表"),
    ("defence_score", "答辩成绩"),
    ("objection", "异议"),
    ("designation", "认定"),
    ("city_designation", "市级认定"),
    ("report", "发展情况报告"),
    ("revocation_case", "撤销案件"),
    ("calendar", "工作日历"),
    ("policy", "政策规则文件"),
    ("audit_log", "审计日志"),
    ("demo_clock", "演示时钟"),
    ("funding_entry", "资金台账条目"),
    ("funding_reward", "年度奖励金额"),
    ("import", "Excel导入"),
    ("change_request", "变更申请"),
    ("nomination", "国家级集群推荐"),
    ("monitoring_note", "监测备注"),
    ("dashboard", "数据看板"),
    ("final_materials", "决赛申报材料"),
    ("yearly_announcement", "年度集中公告"),
    ("plaque", "授牌"),
    ("recheck_call", "复核通知"),
    ("recheck_objection", "复核结果异议"),
    ("recheck", "复核"),
];

fn find(table: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, name)| *name)
}

/// The name of an action; `None` for a key this table does not know.
pub fn action_label(key: &str) -> Option<&'static str> {
    find(ACTIONS, key)
}

/// The name of an object type; `None` for a type this table does not know.
pub fn object_label(key: &str) -> Option<&'static str> {
    find(OBJECT_TYPES, key)
}

/// The object an entry names, as people read it: "账户（编号3）", "单位（全部）".
pub fn object_text(object_type: &str, object_id: &str) -> String {
    let name = object_label(object_type).unwrap_or(object_type);
    match object_id {
        "" => name.to_string(),
        "*" => format!("{name}（全部）"),
        id => format!("{name}（编号{id}）"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_names_are_chinese() {
        for table in [ACTIONS, OBJECT_TYPES] {
            let mut keys: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), table.len(), "duplicate key");
            for (key, name) in table {
                assert!(
                    name.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{key} has no Chinese name"
                );
            }
        }
    }

    #[test]
    fn objects_read_as_names_with_their_number() {
        assert_eq!(object_text("user", "3"), "账户（编号3）");
        assert_eq!(object_text("organisation", "*"), "单位（全部）");
        assert_eq!(object_text("audit_log", ""), "审计日志");
        assert_eq!(object_text("unknown_thing", "7"), "unknown_thing（编号7）");
        assert_eq!(action_label("login.mfa_success"), Some("双因素认证通过"));
        assert_eq!(action_label("no.such"), None);
    }
}
