//! [`RedisStore`] over a Redis Cluster (feature `cluster`): the same keys
//! and scripts as on one server. Every key of an account carries the
//! account as its hash tag, so each save is one script on the primary
//! that owns the account's slot; redis-rs's cluster connection follows
//! the cluster's redirections (`MOVED` after a slot moved, `ASK` while it
//! moves) and its failovers.

use redis::{
    RedisError, Value,
    cluster_async::ClusterConnection,
    cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo},
};

use crate::store::{RedisStore, durability_problem, durability_queries};

impl RedisStore<ClusterConnection> {
    /// [`RedisStore::durability_problems`] asked of every node of the
    /// cluster, primaries and replicas alike (a replica that a failover
    /// promotes keeps only what it wrote to disk itself); each problem
    /// starts with the node's address. Empty when every node is set as
    /// the crate's "Durability" says.
    ///
    /// # Errors
    /// A node failed or refused `CONFIG GET`.
    pub async fn cluster_durability_problems(&self) -> Result<Vec<String>, RedisError> {
        let mut connection = self.connection();
        let mut problems = Vec::new();
        for (setting, query) in durability_queries() {
            let every_node = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllNodes, None));
            // Without a response policy, the answer maps each node's
            // address to its own reply.
            let answers: Vec<(String, Value)> =
                redis::from_redis_value(connection.route_command(query, every_node).await?)?;
            for (node, answer) in answers {
                let answer: Vec<String> = redis::from_redis_value(answer)?;
                let value = answer.get(1).map_or("", String::as_str);
                problems.extend(durability_problem(setting, value).map(|p| format!("{node}: {p}")));
            }
        }
        problems.sort();
        Ok(problems)
    }
}
